import { defineColumn } from "../matrix";

defineColumn("docker");
