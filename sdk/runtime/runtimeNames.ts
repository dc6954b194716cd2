import { validate } from "../validate";

export function validateRuntimeName(name: string, field: string): string {
    return validate(name, "name", field);
}

/** containerd and CRI-O need an absolute path; Docker also takes a bare name found on its PATH. */
export function validateRuntimePath(path: string, field: string, absolute: boolean): string {
    if (!absolute && !path.startsWith("/")) return validate(path, "name", field);
    return validate(path, "absolutePath", field);
}
