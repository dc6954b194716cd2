import { defineColumn } from "../matrix";

defineColumn("zypper");
