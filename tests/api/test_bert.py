"""The local BERT encoder (src/embed/bert.c) on tiny GGUF models made for the test.

tools/gguf-tiny-bert writes small random BERT files in llama.cpp's layout (f32, f16,
q8_0; mean and CLS pooling) and the same weights as an npz; tools/bert-reference, an
independent float64 numpy implementation, embeds the same texts from the npz.
`ragd embed --embed-gguf FILE` must agree with it to 1e-4 per component on every text
(English, punctuation, accents, CJK, an empty line, a text over the window).  A server
started with the file offers the model, indexes a high_quality dataset with it and finds
the chunk by semantic search.  Truncated, random, incomplete, mis-shaped, non-BERT and
missing files make
`ragd embed` and `ragd serve` exit non-zero naming the file, without a sanitizer report.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile

from harness import REPO, SANITIZER_MARKERS, check, eq, retrieval_model as rm, skip

GEN = os.path.join(REPO, "tools", "gguf-tiny-bert")
REF = os.path.join(REPO, "tools", "bert-reference")
MODELS = "/v1/workspaces/current/models/model-types/text-embedding"
TOL = 1e-4
CTX = 32  # tokens: the long text below is cut

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "hello world",
    "Hello, World!!! What's up?",
    "e-mail: someone@example.com (urgent) -- call 555-0100.",
    "Café naïve résumé façade Ångström",
    "ÉCOLE ÉLÉMENTAIRE",
    "東京は日本の首都です。",
    "中文 mixed with English words",
    "",
    "   ",
    "a",
    "!!!",
    "numbers 12345 and 3.14159 and 1,000,000",
    "tabs\there\tand  double  spaces",
    "unbelievable unaffordable internationalisation",
    "Straße über Öl",
    "emoji 🙂 and symbols © ® ™",
    "the " * 80 + "end",  # longer than the window
    "x" * 150,  # a word over 100 characters: [UNK]
    "Ünïcödé wörds everywhere",
]

VARIANTS = [  # (file type, pooling)
    ("f32", "mean"),
    ("f16", "cls"),
    ("q8_0", "mean"),
    ("f32", "cls"),
]

_tmp = None


def tmpdir():
    global _tmp
    if _tmp is None:
        _tmp = tempfile.mkdtemp(prefix="ragd-bert-")
    return _tmp


def generate(kind, pooling, name=None, seed=7):
    """(gguf path, npz path) of a tiny model, generated once per module run."""
    if not os.path.exists(GEN):
        skip("tools/gguf-tiny-bert absent")
    name = name or f"tiny-{kind}-{pooling}"
    gguf = os.path.join(tmpdir(), name + ".gguf")
    npz = os.path.join(tmpdir(), name + ".npz")
    if not os.path.exists(gguf):
        p = subprocess.run([GEN, "--out", gguf, "--npz", npz, "--type", kind, "--pooling",
                            pooling, "--seed", str(seed), "--layers", "2", "--hidden", "64",
                            "--heads", "4", "--ffn", "128", "--ctx", str(CTX)],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"gguf-tiny-bert failed: {p.stderr[-500:]}")
    return gguf, npz


def ragd_embed(srv, gguf, texts):
    """`ragd embed` of texts with the model of gguf; the CompletedProcess (text).  A
    sanitizer report on its stderr is a failure of the calling test."""
    name = os.path.basename(gguf)[:-5]
    p = subprocess.run([srv.bin, "embed", "--embed-gguf", gguf, "--embed-threads", "2",
                        "--model", f"ragd/{name}"], input="\n".join(texts) + "\n",
                       env=srv.env(), capture_output=True, text=True, timeout=60)
    check(not any(m in p.stderr for m in SANITIZER_MARKERS),
          f"ragd embed {name}: sanitizer report: {p.stderr[-1500:]}")
    return p


def reference(npz, texts):
    p = subprocess.run([REF, "--npz", npz], input="\n".join(texts) + "\n",
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"bert-reference failed: {p.stderr[-500:]}")
    return [json.loads(l) for l in p.stdout.splitlines()]


def test_matches_the_float64_reference(srv):
    worst = 0.0
    for kind, pooling in VARIANTS:
        gguf, npz = generate(kind, pooling)
        p = ragd_embed(srv, gguf, TEXTS)
        if not eq(p.returncode, 0, f"{kind}/{pooling}: ragd embed exit ({p.stderr[-300:]})"):
            continue
        got = [json.loads(l) for l in p.stdout.splitlines()]
        want = reference(npz, TEXTS)
        if not eq(len(got), len(TEXTS), f"{kind}/{pooling}: vectors printed"):
            continue
        for i, (g, w) in enumerate(zip(got, want)):
            eq(len(g), 64, f"{kind}/{pooling}: dims of text {i}")
            d = max((abs(a - b) for a, b in zip(g, w)), default=0.0)
            worst = max(worst, d)
            check(d <= TOL, f"{kind}/{pooling}: text {i} {TEXTS[i][:40]!r}: max abs diff {d:.3g}")
        eq(got[8], [0.0] * 64, f"{kind}/{pooling}: the empty line is the zero vector")
        check(any(abs(v) > 0.01 for v in got[0]), f"{kind}/{pooling}: a real vector")
    print(f"      test_bert: max abs diff against the reference {worst:.3g}")


def test_batches_and_order_do_not_change_vectors(srv):
    """One text alone, and the texts reversed, give the same vectors as the whole list."""
    gguf, _ = generate("f32", "mean")
    full = [json.loads(l) for l in ragd_embed(srv, gguf, TEXTS).stdout.splitlines()]
    rev = [json.loads(l) for l in ragd_embed(srv, gguf, TEXTS[::-1]).stdout.splitlines()][::-1]
    one = [json.loads(l) for l in ragd_embed(srv, gguf, TEXTS[:1]).stdout.splitlines()]
    if eq(len(rev), len(full), "vectors printed"):
        for i, (a, b) in enumerate(zip(full, rev)):
            d = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
            check(d <= 1e-5, f"text {i}: reversed order differs by {d:.3g}")
    check(one and max(abs(x - y) for x, y in zip(one[0], full[0])) <= 1e-5,
          "a text embedded alone differs from the same text in a batch")


def test_served_model_indexes_and_retrieves(srv):
    gguf, _ = generate("f16", "mean", name="tiny-served")
    s = srv.spawn(env={"RAGD_EMBED_GGUF": gguf, "RAGD_EMBED_THREADS": "2"})
    st, _, js, raw = s.call("GET", MODELS)
    eq(st, 200, f"GET models ({raw[:150]!r})")
    offered = {(p.get("provider"), m.get("model")) for p in (js or {}).get("data", [])
               for m in p.get("models", [])}
    check(("ragd", "tiny-served") in offered, f"ragd/tiny-served offered: {sorted(offered)}")
    ds = s.create_dataset("bert-ds", indexing_technique="high_quality",
                          embedding_model_provider="ragd", embedding_model="tiny-served")
    eq(ds.get("embedding_model"), "tiny-served", "dataset's embedding model")
    text = "The lighthouse keeper watched the storm roll over the harbour all night."
    _, batch = s.create_text(ds["id"], "lighthouse.txt", text, indexing_technique="high_quality")
    it = s.wait_indexed(ds["id"], batch)[0]
    eq(it.get("indexing_status"), "completed", f"document indexed: {it}")
    st, _, js, raw = s.retrieve(ds["id"], "lighthouse storm harbour", rm("semantic_search", 3))
    eq(st, 200, f"retrieve ({raw[:200]!r})")
    recs = (js or {}).get("records") or []
    check(recs and "lighthouse" in ((recs[0].get("segment") or {}).get("content") or ""),
          f"semantic search returns the chunk: {raw[:300]!r}")


def hostile_files(srv):
    """(label, path) of files ragd must refuse."""
    gguf, _ = generate("f32", "mean")
    d = tmpdir()
    data = open(gguf, "rb").read()
    out = []
    p = os.path.join(d, "truncated.gguf")
    with open(p, "wb") as f:
        f.write(data[: len(data) // 2])
    out.append(("truncated", p))
    p = os.path.join(d, "random.gguf")
    with open(p, "wb") as f:
        f.write(os.urandom(4096))
    out.append(("random bytes", p))
    # a missing tensor: rename one in place (same length), so the file stays valid GGUF
    p = os.path.join(d, "missing-tensor.gguf")
    needle = b"blk.1.ffn_down.weight"
    check(needle in data, "the generated file names blk.1.ffn_down.weight")
    with open(p, "wb") as f:
        f.write(data.replace(needle, b"blk.1.ffn_dowX.weight", 1))
    out.append(("missing tensor", p))
    # a wrong architecture: same length again
    p = os.path.join(d, "not-bert.gguf")
    with open(p, "wb") as f:
        four = b"\x04\x00\x00\x00\x00\x00\x00\x00"  # a GGUF string's u64 length
        f.write(data.replace(four + b"bert", four + b"gpt2", 1))
    out.append(("not bert", p))
    # hyper-parameters that disagree with the tensors: bert.feed_forward_length 128 -> 96
    p = os.path.join(d, "wrong-shape.gguf")
    key = b"bert.feed_forward_length" + struct.pack("<I", 4)  # key, then type u32
    check(key + struct.pack("<I", 128) in data, "the generated file has ffn 128")
    with open(p, "wb") as f:
        f.write(data.replace(key + struct.pack("<I", 128), key + struct.pack("<I", 96), 1))
    out.append(("wrong shape", p))
    out.append(("nonexistent", os.path.join(d, "does-not-exist.gguf")))
    return out


def test_hostile_files_are_refused_naming_the_file(srv):
    for label, path in hostile_files(srv):
        p = ragd_embed(srv, path, ["hello"])
        check(p.returncode not in (0, None) and p.returncode > 0,
              f"{label}: ragd embed exit {p.returncode}")
        check(path in p.stderr, f"{label}: message names the file: {p.stderr[-300:]!r}")
        if label == "missing tensor":
            check("blk.1.ffn_down.weight" in p.stderr, f"{label}: names the tensor: {p.stderr!r}")
        if label == "wrong shape":
            check("ffn_up.weight has shape [64, 128], expected [64, 96]" in p.stderr,
                  f"{label}: names the tensor and both shapes: {p.stderr!r}")
        if label == "not bert":
            check("architecture" in p.stderr, f"{label}: says why: {p.stderr!r}")
    # serve refuses to start as well
    label, path = hostile_files(srv)[2]
    data = tempfile.mkdtemp(prefix="ragd-bert-serve-")
    try:
        env = srv.env()
        env["RAGD_EMBED_GGUF"] = path
        p = subprocess.run([srv.bin, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                           env=env, capture_output=True, text=True, timeout=20)
        check(p.returncode > 0, f"serve with a {label} file: exit {p.returncode}")
        check(path in p.stderr, f"serve names the file: {p.stderr[-300:]!r}")
        check(not any(m in p.stderr for m in SANITIZER_MARKERS),
              f"serve: sanitizer report: {p.stderr[-800:]}")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def test_zz_cleanup(srv):
    if _tmp and not os.environ.get("RAGD_TEST_KEEP"):
        shutil.rmtree(_tmp, ignore_errors=True)
