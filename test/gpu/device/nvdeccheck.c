/*
 * NVDEC inside a container (issue 27): loads the driver's libcuda and libnvcuvid (injected with the `video`
 * capability) with dlopen, so no Video Codec SDK header is needed, and asks cuvidGetDecoderCaps whether H.264, HEVC,
 * AV1 and JPEG decode are supported on GPU 0. H100 and H200 have NVDEC and NVJPG engines but no NVENC: encode is not
 * checked. Prints `nvdec <codec> supported=<0|1> engines=<n> max=<w>x<h>`; exits 1 if a library or call fails.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int (*fn_init)(unsigned int);
typedef int (*fn_dev)(int *, int);
typedef int (*fn_ctx)(void **, unsigned int, int);
typedef int (*fn_caps)(void *);

int main(void) {
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW), *cuvid = dlopen("libnvcuvid.so.1", RTLD_NOW);
    if (!cuda || !cuvid) { printf("nvdec missing %s\n", dlerror()); return 1; }
    fn_init cuInit = (fn_init)dlsym(cuda, "cuInit");
    fn_dev cuDeviceGet = (fn_dev)dlsym(cuda, "cuDeviceGet");
    fn_ctx cuCtxCreate = (fn_ctx)dlsym(cuda, "cuCtxCreate_v2");
    fn_caps getCaps = (fn_caps)dlsym(cuvid, "cuvidGetDecoderCaps");
    int dev = 0; void *ctx = 0;
    if (!cuInit || !cuDeviceGet || !cuCtxCreate || !getCaps) { printf("nvdec missing symbols\n"); return 1; }
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuCtxCreate(&ctx, 0, dev)) { printf("nvdec no CUDA context\n"); return 1; }
    /* CUVIDDECODECAPS: eCodecType, eChromaFormat, nBitDepthMinus8, reserved1[3], bIsSupported (byte 24),
       nNumNVDECs (25), nOutputFormatMask (26), nMaxWidth (28), nMaxHeight (32); the rest is left zeroed room. */
    const struct { const char *name; int codec; } codecs[] = {{"h264", 4}, {"hevc", 8}, {"av1", 11}, {"jpeg", 5}};
    int failed = 0;
    for (unsigned i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        unsigned char caps[256];
        memset(caps, 0, sizeof caps);
        int codec = codecs[i].codec, chroma = 1; /* 4:2:0 */
        memcpy(caps, &codec, 4); memcpy(caps + 4, &chroma, 4);
        int rc = getCaps(caps);
        unsigned w, h; memcpy(&w, caps + 28, 4); memcpy(&h, caps + 32, 4);
        if (rc) { printf("nvdec %s error=%d\n", codecs[i].name, rc); failed = 1; continue; }
        printf("nvdec %s supported=%d engines=%d max=%ux%u\n", codecs[i].name, caps[24], caps[25], w, h);
    }
    return failed;
}
