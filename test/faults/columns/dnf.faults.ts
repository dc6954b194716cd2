import { defineColumn } from "../matrix";

defineColumn("dnf");
