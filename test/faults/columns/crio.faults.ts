import { defineColumn } from "../matrix";

defineColumn("crio");
