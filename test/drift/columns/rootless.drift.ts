import { defineDriftColumn } from "../matrix";

defineDriftColumn("rootless", 4);
