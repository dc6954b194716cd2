// The real-GPU suite's CUDA check (issue 16): compiled with nvcc on the GPU machine, run inside containers.
// For every GPU the container sees it prints its UUID and runs a kernel whose result is checked on the CPU:
//   devices N
//   gpu <ordinal> GPU-<uuid> <pci bus id> saxpy ok n=<elements> maxerr=<error>
// Exit status 0 only when at least one GPU is seen and every kernel's result is right.
#include <cmath>
#include <cstdio>
#include <vector>
#include <cuda_runtime.h>

__global__ void saxpy(int n, float a, const float *x, float *y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

static bool ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return true;
    std::printf("error %s: %s (%d)\n", what, cudaGetErrorString(e), (int)e);
    return false;
}

int main() {
    int count = 0;
    if (!ok(cudaGetDeviceCount(&count), "cudaGetDeviceCount")) return 2;
    std::printf("devices %d\n", count);
    int failures = 0;
    const int n = 1 << 22;
    for (int d = 0; d < count; ++d) {
        cudaDeviceProp p;
        if (!ok(cudaSetDevice(d), "cudaSetDevice") || !ok(cudaGetDeviceProperties(&p, d), "cudaGetDeviceProperties")) { ++failures; continue; }
        char bus[32] = {0};
        cudaDeviceGetPCIBusId(bus, sizeof bus, d);
        const unsigned char *u = reinterpret_cast<const unsigned char *>(p.uuid.bytes);
        char uuid[64];
        std::snprintf(uuid, sizeof uuid, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
                      u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        std::vector<float> x(n), y(n);
        for (int i = 0; i < n; ++i) { x[i] = 0.5f * (i % 1000); y[i] = 2.0f - (i % 7); }
        float *dx = nullptr, *dy = nullptr;
        bool good = ok(cudaMalloc(&dx, n * sizeof(float)), "cudaMalloc") && ok(cudaMalloc(&dy, n * sizeof(float)), "cudaMalloc") &&
                    ok(cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") &&
                    ok(cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
        if (good) {
            saxpy<<<(n + 255) / 256, 256>>>(n, 3.0f, dx, dy);
            good = ok(cudaGetLastError(), "launch") && ok(cudaDeviceSynchronize(), "kernel") &&
                   ok(cudaMemcpy(y.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy back");
        }
        double maxerr = 0;
        if (good)
            for (int i = 0; i < n; ++i) maxerr = std::fmax(maxerr, std::fabs(y[i] - (3.0f * (0.5f * (i % 1000)) + (2.0f - (i % 7)))));
        good = good && maxerr == 0.0;
        std::printf("gpu %d %s %s %s n=%d maxerr=%g\n", d, uuid, bus, good ? "saxpy ok" : "saxpy FAILED", n, maxerr);
        if (!good) ++failures;
        cudaFree(dx);
        cudaFree(dy);
    }
    return count > 0 && failures == 0 ? 0 : 1;
}
