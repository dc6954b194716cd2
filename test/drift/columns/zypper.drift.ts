import { defineDriftColumn } from "../matrix";

defineDriftColumn("zypper", 2);
