import { defineColumn } from "../matrix";

defineColumn("containerd");
