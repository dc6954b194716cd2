import { defineDriftColumn } from "../matrix";

defineDriftColumn("mig", 6);
