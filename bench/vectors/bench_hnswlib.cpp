// bench_hnswlib.cpp - hnswlib's side of bench/vectors (see run): the same
// files, parameters and output line as bench_vectors.c's run mode.
//   bench_hnswlib DIR M EFC EF,EF,...
// Inner-product space on the unit rows, single-threaded build (addPoint in
// row order) and queries one after the other; prints
// "hnswlib ef recall qps build_s bytes_per_vector(graph) bytes_per_vector(all)"
// where memory is the growth of the resident set during the build (hnswlib
// keeps its own copy of the vectors: graph = that minus 4 dims bytes).
#include <hnswlib/hnswlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

struct Mat {
    uint32_t n = 0, dims = 0;
    std::vector<float> v;
};

static Mat load(const std::string &path)
{
    Mat m;
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "bench_hnswlib: %s\n", path.c_str());
        std::exit(1);
    }
    f.read((char *)&m.n, 4);
    f.read((char *)&m.dims, 4);
    m.v.resize((size_t)m.n * m.dims);
    f.read((char *)m.v.data(), (std::streamsize)(m.v.size() * 4));
    return m;
}

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

static double rss_bytes()
{
    std::ifstream f("/proc/self/statm");
    long pages = 0, res = 0;
    f >> pages >> res;
    return (double)res * 4096;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: bench_hnswlib DIR M EFC EF,EF,...\n");
        return 1;
    }
    std::string dir = argv[1];
    size_t m = std::strtoul(argv[2], nullptr, 10), efc = std::strtoul(argv[3], nullptr, 10);
    Mat b = load(dir + "/base.f32"), q = load(dir + "/query.f32"), gt = load(dir + "/gt.u32");
    const uint32_t *want_all = (const uint32_t *)gt.v.data();
    const size_t k = 10;

    double r0 = rss_bytes();
    hnswlib::InnerProductSpace space(b.dims);
    hnswlib::HierarchicalNSW<float> alg(&space, b.n, m, efc, 100);
    double t0 = now();
    for (uint32_t r = 0; r < b.n; r++)
        alg.addPoint(b.v.data() + (size_t)r * b.dims, r);
    double bs = now() - t0;
    double per_all = (rss_bytes() - r0) / b.n;

    alg.setEf(10);
    for (uint32_t i = 0; i < 200; i++)
        alg.searchKnn(q.v.data() + (size_t)i * q.dims, k);
    std::stringstream efs(argv[4]);
    std::string tok;
    while (std::getline(efs, tok, ',')) {
        size_t ef = std::strtoul(tok.c_str(), nullptr, 10), hit = 0;
        alg.setEf(ef);
        double t1 = now();
        for (uint32_t i = 0; i < q.n; i++) {
            auto res = alg.searchKnn(q.v.data() + (size_t)i * q.dims, k);
            const uint32_t *want = want_all + (size_t)i * k;
            while (!res.empty()) {
                uint32_t id = (uint32_t)res.top().second;
                res.pop();
                for (size_t w = 0; w < k; w++)
                    hit += id == want[w];
            }
        }
        double t = now() - t1;
        std::printf("hnswlib %zu %.4f %.0f %.1f %.1f %.1f\n", ef, (double)hit / ((double)q.n * k),
                    q.n / t, bs, per_all - b.dims * 4.0, per_all);
        std::fflush(stdout);
    }
    return 0;
}
