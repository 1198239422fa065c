// langchain.mjs - LangChain's RecursiveCharacterTextSplitter on the same file
// and with the same settings as bench_split (Dify's automatic rule): chunkSize
// 500, chunkOverlap 50, separators "\n\n", "。", ". ", " ", "", length in code
// points.  Prints best and median MB/s (10^6 bytes of UTF-8 input per second).
//
// Usage: node langchain.mjs NODE_MODULES_DIR FILE [REPEATS]
// (@langchain/textsplitters and @langchain/core installed under NODE_MODULES_DIR
// by bench/split/run; they are never part of the repository.)
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";

const [modules, file, repsArg] = process.argv.slice(2);
if (!modules || !file) {
    console.error("usage: node langchain.mjs NODE_MODULES_DIR FILE [REPEATS]");
    process.exit(2);
}
const require = createRequire(join(resolve(modules), "noop.js"));
const { RecursiveCharacterTextSplitter } = require("@langchain/textsplitters");
const version = require("@langchain/textsplitters/package.json").version;

// Code points, as Dify 1.13+ measures: UTF-16 length minus the high surrogates.
function codePoints(s) {
    let n = s.length;
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff) n--;
    }
    return n;
}

const buf = readFileSync(file);
const text = buf.toString("utf8");
const reps = Math.max(1, Number(repsArg) || 3);
const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: 500,
    chunkOverlap: 50,
    separators: ["\n\n", "。", ". ", " ", ""],
    lengthFunction: codePoints,
});

console.log(`langchain: @langchain/textsplitters ${version}, node ${process.version}`);
const times = [];
let chunks = [];
for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    chunks = await splitter.splitText(text);
    times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
const mb = buf.length / 1e6;
const mean = chunks.reduce((s, c) => s + codePoints(c), 0) / Math.max(1, chunks.length);
console.log(`chunks: ${chunks.length}, mean ${mean.toFixed(1)} characters`);
console.log(
    `langchain (automatic)        best ${(mb / times[0]).toFixed(1).padStart(8)} MB/s   ` +
        `median ${(mb / times[Math.floor(reps / 2)]).toFixed(1).padStart(8)} MB/s   ` +
        `(${reps} runs, best ${times[0].toFixed(3)} s)`,
);
