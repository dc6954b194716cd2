import { defineDriftColumn } from "../matrix";

defineDriftColumn("dnf", 1);
