import { defineColumn } from "../matrix";

defineColumn("rootless");
