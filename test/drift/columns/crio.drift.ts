import { defineDriftColumn } from "../matrix";

defineDriftColumn("crio", 5);
