import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle } from "../../helpers/pulumiMocks";

// A RuntimeClass's handler is immutable (the apiserver answers "field is immutable" to an update), and the
// Kubernetes provider lists no RuntimeClass field that forces a replacement: the component must ask for one.
describe("KubernetesGpuSupport: a runtimeName change replaces RuntimeClass nvidia", () => {
    it("the RuntimeClass replaces on a handler change, deleting first (its name stays nvidia)", async () => {
        installMocks(false);
        const { KubernetesGpuSupport } = require("../../../index") as typeof import("../../../index");
        const seen: pulumi.ResourceTransformationArgs[] = [];
        new KubernetesGpuSupport("gpu", { runtimeName: "nvidia-cdi" }, { transformations: [(a) => (seen.push(a), undefined)] });
        await settle(100);
        const rc = seen.find((a) => a.type === "kubernetes:node.k8s.io/v1:RuntimeClass");
        assert.ok(rc, `registered: ${seen.map((a) => a.type).join(", ")}`);
        assert.deepEqual(rc.opts.replaceOnChanges, ["handler"]);
        assert.equal((rc.opts as pulumi.CustomResourceOptions).deleteBeforeReplace, true);
    });
});
