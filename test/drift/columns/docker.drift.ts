import { defineDriftColumn } from "../matrix";

defineDriftColumn("docker", 0);
