import { defineDriftColumn } from "../matrix";

defineDriftColumn("containerd", 3);
