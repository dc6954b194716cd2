import { GpuConfigError } from "../errors";

/** A container image reference split into its parts. */
export interface ImageReference {
    /** Registry host, `docker.io` when none is written. */
    registry: string;
    /** Repository path without the registry, e.g. `nvidia/cuda`. */
    repository: string;
    tag: string | undefined;
    /** `sha256:…` when the reference pins a digest. */
    digest: string | undefined;
}

const REFERENCE =
    /^(?:(?<registry>[a-z0-9.-]+(?::\d+)?|localhost(?::\d+)?)\/)?(?<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

/** Parses `[registry/]repository[:tag][@sha256:digest]` as Docker does. */
export function parseImageReference(image: string, field = "image"): ImageReference {
    const match = REFERENCE.exec(image.trim());
    if (!match?.groups) {
        throw new GpuConfigError(field, `${JSON.stringify(image)} is not an image reference`, "write it like nvidia/cuda:12.4.1-base-ubuntu22.04");
    }
    let { registry, repository } = match.groups;
    // "nvidia/cuda": the first part is a registry only when it looks like a host name.
    if (registry !== undefined && !registry.includes(".") && !registry.includes(":") && registry !== "localhost") {
        repository = `${registry}/${repository}`;
        registry = undefined as unknown as string;
    }
    return {
        registry: registry ?? "docker.io",
        repository: registry === undefined && !repository.includes("/") ? `library/${repository}` : repository,
        tag: match.groups.tag,
        digest: match.groups.digest,
    };
}
