#!/usr/bin/env node
// import-tfjs.mjs -- convert a TensorFlow.js layers model (a Keras network:
// model.json and its weight shards, or the base64-wrapped *.min.js files
// that nsfwjs bundles) into a plastix network: an HDF5 weights file in the
// layout of plx_deepnet_save (/weights/trained/<layer>/W and b) and a
// ready-to-run natural-image probe config (configs/ style) whose
// model.layers reproduce the Keras graph, for model.pretrained.
//
// The graph must be sequential apart from residual additions (MobileNet,
// VGG-like nets).  BatchNormalization (inference) is folded into the
// convolution before it; ReLU with max_value becomes relu { max }; Keras's
// asymmetric "same" padding becomes a zeropad layer before a valid conv;
// DepthwiseConv2D becomes a conv with groups = channels.  The network
// takes grey images: the first convolution's kernels are summed over the
// input channels, which is exact for an image with the same value in R, G
// and B.  Conversion stops after --until (default: before the first layer
// it cannot convert: pooling, dense heads).
//
// The file also holds /check: a test image and the network's own
// activations at the probed layers, computed here by TensorFlow.js from
// the original (unfolded) model; plastix checks, when it loads the
// weights, that its network reproduces them, so an import that got a
// layout, a padding or a fold wrong is refused rather than probed.
//
// Usage (the packages go to ~/.cache/plastix/node_modules, or to the
// folder PLASTIX_NODE_MODULES names):
//   npm install --prefix ~/.cache/plastix h5wasm@0.10.3 @tensorflow/tfjs@4.22.0
//   node scripts/import-tfjs.mjs MODEL OUT [--until NAME] [--probe a,b,...]
//        [--input-offset B] [--input-scale C] [--name NAME]
// MODEL: a model.json, or a folder holding model.json or model.min.js.
// OUT: writes OUT.h5 and OUT.cfg.  --input-offset and --input-scale map
// plastix's inputs (zero-mean, unit-variance crops; the probe's Gabor on
// grey 0 with amplitude 1) to the network's range: Keras's MobileNet wants
// [-1, 1] (0 and 1, the defaults); nsfwjs feeds pixels / 255 (0.5, 0.5).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

// the npm packages live outside the source tree (see Usage)
const modules = process.env.PLASTIX_NODE_MODULES ||
  path.join(os.homedir(), ".cache", "plastix", "node_modules");
const require = createRequire(path.join(modules, "_"));

function die(msg) {
  process.stderr.write(`import-tfjs: ${msg}\n`);
  process.exit(2);
}

function usage() {
  process.stdout.write(`usage: node scripts/import-tfjs.mjs MODEL OUT [--until NAME] [--probe a,b]
                           [--input-offset B] [--input-scale C] [--name NAME]
Convert a TensorFlow.js layers model (Keras) to OUT.h5 (plastix weights,
/weights/trained) and OUT.cfg (a natural-image probe config using them).
MODEL: model.json, or a folder with model.json or model.min.js (nsfwjs).
  --until NAME      last Keras layer converted (default: as far as possible)
  --probe a,b,...   layers whose sensitivity the config probes (default:
                    every converted ReLU whose name ends in "relu")
  --input-offset B  the network sees B + C x for plastix's input x
  --input-scale C   (zero-mean unit-variance crops, Gabor on 0): 0 and 1 by
                    default; 0.5 and 0.5 for pixels / 255
  --name NAME       experiment.name of the config (default: OUT's name)
Needs the npm packages h5wasm and @tensorflow/tfjs in ~/.cache/plastix/node_modules
(npm install --prefix ~/.cache/plastix h5wasm@0.10.3 @tensorflow/tfjs@4.22.0) or in
the folder PLASTIX_NODE_MODULES names.
`);
}

// ------------------------------------------------------------ arguments
const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  usage();
  process.exit(0);
}
const opts = { until: null, probe: null, offset: 0, scale: 1, name: null };
const pos = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) die(`${a} needs a value`);
    return argv[++i];
  };
  if (a === "--until") opts.until = val();
  else if (a === "--probe") opts.probe = val().split(",").filter((s) => s);
  else if (a === "--input-offset") opts.offset = Number(val());
  else if (a === "--input-scale") opts.scale = Number(val());
  else if (a === "--name") opts.name = val();
  else if (a.startsWith("-")) die(`unknown option ${a} (see --help)`);
  else pos.push(a);
}
if (pos.length !== 2) die("expected MODEL and OUT (see --help)");
if (!Number.isFinite(opts.offset)) die("--input-offset: expected a number");
if (!(opts.scale > 0)) die("--input-scale: expected a number > 0");
const [modelArg, outPrefix] = pos;

let h5wasm, tf;
try {
  h5wasm = (await import(pathToFileURL(path.join(modules, "h5wasm", "dist", "node",
                                                  "hdf5_hl.js")).href)).default;
  tf = require("@tensorflow/tfjs");
} catch (e) {
  die(`needs the npm packages h5wasm and @tensorflow/tfjs in ${modules} (${e.message}); ` +
      "install them with npm install --prefix ~/.cache/plastix h5wasm@0.10.3 " +
      "@tensorflow/tfjs@4.22.0");
}

// ---------------------------------------------------------- the model
function loadArtifacts(arg) {
  let dir = arg, json = null;
  if (!fs.existsSync(arg)) die(`${arg}: no such file or folder`);
  if (fs.statSync(arg).isFile()) {
    dir = path.dirname(arg);
    json = JSON.parse(fs.readFileSync(arg, "utf8"));
  } else if (fs.existsSync(path.join(dir, "model.json"))) {
    json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  } else if (fs.existsSync(path.join(dir, "model.min.js"))) {
    json = require(path.resolve(dir, "model.min.js")); // nsfwjs: a module exporting the JSON
  } else die(`${arg}: expected model.json or model.min.js in it`);
  if (!json.modelTopology || !json.weightsManifest)
    die(`${arg}: not a TensorFlow.js layers model (no modelTopology or weightsManifest)`);
  const specs = [], parts = [];
  for (const g of json.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) {
      const bin = path.join(dir, p), js = path.join(dir, p + ".min.js");
      if (fs.existsSync(bin)) parts.push(fs.readFileSync(bin));
      else if (fs.existsSync(js)) parts.push(Buffer.from(String(require(path.resolve(js))), "base64"));
      else die(`${dir}: weight shard ${p} not found`);
    }
  }
  const buf = Buffer.concat(parts);
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData: data,
           format: "layers-model" };
}

// every weight as float32, by name, decoded (and dequantised) the way
// TensorFlow.js does
function decodeWeights(art) {
  const map = tf.io.decodeWeights(art.weightData, art.weightSpecs);
  const out = {};
  for (const [k, t] of Object.entries(map)) out[k] = { shape: t.shape, data: t.dataSync() };
  return out;
}

const art = loadArtifacts(modelArg);
const weights = decodeWeights(art);
const topo = art.modelTopology.model_config || art.modelTopology;
const klayers = (topo.config && topo.config.layers) || die("no layers in the topology");

function weight(lname, param, need = true) {
  const w = weights[`${lname}/${param}`];
  if (!w && need) die(`layer ${lname}: weight ${lname}/${param} missing`);
  return w;
}

// inbound tensor names of a Keras layer (Keras 2 and 3 formats)
function inbound(kl) {
  const nodes = kl.inbound_nodes || [];
  if (!nodes.length) return [];
  const n = nodes[0];
  if (Array.isArray(n)) return n.map((e) => e[0]);
  if (n.args) {
    const flat = [];
    const walk = (a) => {
      if (Array.isArray(a)) a.forEach(walk);
      else if (a && a.config && a.config.keras_history) flat.push(a.config.keras_history[0]);
    };
    walk(n.args);
    return flat;
  }
  return [];
}

// ------------------------------------------------------------ convert
const layers = [];        // plastix layers: {type, name, ...keys, W, b}
const tensorOf = {};      // Keras layer name -> plastix layer name (its output)
const shapeOf = {};       // Keras layer name -> [H, W, C]
let current = null;       // Keras name of the tensor the sequence is at
let firstConv = true;
let stoppedAt = null;

function plxName(n) {
  if (n.length > 31) die(`layer name ${n} is longer than plastix's 31 characters`);
  return n;
}

function samePads(inSize, k, s) {
  const out = Math.ceil(inSize / s), total = Math.max((out - 1) * s + k - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

// emit a conv (kernel K [kh][kw][cin][cout] flattened, or depthwise)
function emitConv(kl, depthwise) {
  const c = kl.config, [H, W, C] = shapeOf[current];
  const k = c.kernel_size[0], s = c.strides[0];
  if (c.kernel_size[1] !== k || c.strides[1] !== s) die(`${kl.name}: non-square kernel or stride`);
  if (c.dilation_rate && (c.dilation_rate[0] !== 1 || c.dilation_rate[1] !== 1))
    die(`${kl.name}: dilated convolution is not supported`);
  if (c.data_format && c.data_format !== "channels_last") die(`${kl.name}: channels_first`);
  const kw = weight(kl.name, depthwise ? "depthwise_kernel" : "kernel");
  const [kh, kw2, cin, cm] = kw.shape;
  if (cin !== C) die(`${kl.name}: kernel expects ${cin} input channels, the input has ${C}`);
  if (depthwise && cm !== 1) die(`${kl.name}: depth_multiplier ${cm} is not supported`);
  if (!depthwise && c.groups && c.groups !== 1) die(`${kl.name}: grouped Conv2D is not supported`);
  const grey = firstConv;
  firstConv = false;
  const out = depthwise ? C : cm, inPer = depthwise ? 1 : grey ? 1 : C;
  const Wt = new Float32Array(out * inPer * k * k);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inPer; i++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          let v = 0;
          if (depthwise) v = kw.data[((a * kw2 + b) * cin + o) * cm];
          else if (grey) for (let ci = 0; ci < cin; ci++) v += kw.data[((a * kw2 + b) * cin + ci) * cm + o];
          else v = kw.data[((a * kw2 + b) * cin + i) * cm + o];
          Wt[((o * inPer + i) * k + a) * k + b] = v;
        }
  const bias = new Float32Array(out);
  if (c.use_bias) bias.set(weight(kl.name, depthwise ? "bias" : "bias").data);
  let pad = 0, Ho = H, Wo = W;
  if (c.padding === "same") {
    const [t, bo] = samePads(H, k, s), [l, r] = samePads(W, k, s);
    if (t !== l || bo !== r) die(`${kl.name}: non-square padding`);
    if (t === bo) pad = t;
    else {
      layers.push({ type: "zeropad", name: plxName(kl.name + "_pad"), pad: t, pad_after: bo });
      Ho = H + t + bo;
      Wo = W + t + bo;
    }
  } else if (c.padding !== "valid") die(`${kl.name}: padding ${c.padding}`);
  const L = { type: "conv", name: plxName(kl.name), out, kernel: k, stride: s, pad,
              groups: depthwise ? C : 1, W: Wt, b: bias, wshape: [out, inPer * k * k] };
  layers.push(L);
  const Hn = Math.floor((Ho + 2 * pad - k) / s) + 1, Wn = Math.floor((Wo + 2 * pad - k) / s) + 1;
  shapeOf[kl.name] = [Hn, Wn, out];
  tensorOf[kl.name] = L.name;
  if (c.activation && c.activation !== "linear") {
    if (c.activation !== "relu") die(`${kl.name}: activation ${c.activation} is not supported`);
    layers.push({ type: "relu", name: plxName(kl.name + "_relu") });
    tensorOf[kl.name] = kl.name + "_relu";
  }
}

for (const kl of klayers) {
  if (stoppedAt) break;
  const cls = kl.class_name, c = kl.config, ins = inbound(kl);
  if (cls === "InputLayer") {
    const sh = c.batch_input_shape || c.batch_shape;
    if (!sh || sh.length !== 4) die(`${kl.name}: expected an image input (batch, H, W, C)`);
    shapeOf[kl.name] = [sh[1], sh[2], sh[3]];
    tensorOf[kl.name] = "input";
    current = kl.name;
    continue;
  }
  if (cls !== "Add" && (ins.length !== 1 || ins[0] !== current)) {
    stoppedAt = `${kl.name} (the graph branches there: plastix networks are sequential ` +
                "with residual additions)";
    break;
  }
  const last = layers[layers.length - 1];
  switch (cls) {
    case "ZeroPadding2D": {
      const [[t, bo], [l, r]] = c.padding;
      if (t !== l || bo !== r) die(`${kl.name}: non-square padding`);
      const [H, W, C] = shapeOf[current];
      layers.push({ type: "zeropad", name: plxName(kl.name), pad: t, pad_after: bo });
      shapeOf[kl.name] = [H + t + bo, W + t + bo, C];
      tensorOf[kl.name] = kl.name;
      break;
    }
    case "Conv2D":
      emitConv(kl, false);
      break;
    case "DepthwiseConv2D":
      emitConv(kl, true);
      break;
    case "BatchNormalization": {
      // fold into the conv that produced the input: y = g (x - m) / sqrt(v + e) + b
      if (!last || last.type !== "conv" || tensorOf[current] !== last.name)
        die(`${kl.name}: batch normalisation must follow a convolution directly`);
      const n = last.out, eps = c.epsilon;
      const g = c.scale === false ? null : weight(kl.name, "gamma").data;
      const be = c.center === false ? null : weight(kl.name, "beta").data;
      const m = weight(kl.name, "moving_mean").data, v = weight(kl.name, "moving_variance").data;
      const per = last.W.length / n;
      for (let o = 0; o < n; o++) {
        const sc = (g ? g[o] : 1) / Math.sqrt(v[o] + eps);
        for (let j = 0; j < per; j++) last.W[o * per + j] *= sc;
        last.b[o] = (last.b[o] - m[o]) * sc + (be ? be[o] : 0);
      }
      shapeOf[kl.name] = shapeOf[current];
      tensorOf[kl.name] = last.name;
      break;
    }
    case "ReLU":
    case "Activation": {
      let max = 0;
      if (cls === "ReLU") {
        if ((c.negative_slope || 0) !== 0 || (c.threshold || 0) !== 0)
          die(`${kl.name}: leaky or thresholded ReLU is not supported`);
        max = c.max_value == null ? 0 : c.max_value;
      } else if (c.activation === "relu6") max = 6;
      else if (c.activation !== "relu") {
        stoppedAt = `${kl.name} (activation ${c.activation})`;
        break;
      }
      const L = { type: "relu", name: plxName(kl.name) };
      if (max) L.max = max;
      layers.push(L);
      shapeOf[kl.name] = shapeOf[current];
      tensorOf[kl.name] = kl.name;
      break;
    }
    case "Add": {
      if (ins.length !== 2 || !ins.includes(current)) {
        stoppedAt = `${kl.name} (an addition that does not continue the sequence)`;
        break;
      }
      const other = ins[0] === current ? ins[1] : ins[0];
      if (!(other in tensorOf) || tensorOf[other] === "input")
        die(`${kl.name}: adds ${other}, which is not a converted layer`);
      layers.push({ type: "add", name: plxName(kl.name), from: tensorOf[other] });
      shapeOf[kl.name] = shapeOf[current];
      tensorOf[kl.name] = kl.name;
      break;
    }
    case "Dropout":
      shapeOf[kl.name] = shapeOf[current];
      tensorOf[kl.name] = tensorOf[current];
      break;
    default:
      stoppedAt = `${kl.name} (${cls})`;
  }
  if (stoppedAt) break;
  current = kl.name;
  if (opts.until && kl.name === opts.until) break;
}
if (opts.until && current !== opts.until)
  die(`--until ${opts.until}: not reached (conversion stopped at ${stoppedAt || "the end"})`);
if (!layers.some((l) => l.type === "conv")) die("no convolution converted");
const lastName = layers[layers.length - 1].name;

// -------------------------------------------------------------- probes
const convertedRelu = layers.filter((l) => l.type === "relu").map((l) => l.name);
let probes = opts.probe || convertedRelu.filter((n) => /relu$/.test(n));
for (const p of probes)
  if (!layers.some((l) => l.name === p)) die(`--probe ${p}: not a converted layer`);
if (probes.length > 16) {
  // the natural-image path probes at most 16 layers: spread them over depth
  const k = probes.length, keep = [];
  for (let i = 0; i < 16; i++) keep.push(probes[Math.round((i * (k - 1)) / 15)]);
  probes = [...new Set(keep)];
}

// --------------------------------------------------- check activations
// a smooth random grey image in the network's input range, through the
// original model (TensorFlow.js) to every probed layer
const [H0, W0] = shapeOf[klayers[0].name];
const img = new Float32Array(H0 * W0);
{
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const f = [];
  for (let q = 0; q < 12; q++) f.push([rnd() * 0.3, rnd() * 0.3, rnd() * 6.283, rnd() - 0.5]);
  for (let i = 0; i < H0; i++)
    for (let j = 0; j < W0; j++) {
      let v = 0;
      for (const [a, b, ph, amp] of f) v += amp * Math.cos(a * i + b * j + ph);
      img[i * W0 + j] = opts.offset + opts.scale * Math.tanh(v);
    }
}
const model = await tf.loadLayersModel(tf.io.fromMemory(art));
const kerasOfProbe = {};
for (const [kn, pn] of Object.entries(tensorOf)) kerasOfProbe[pn] = kn; // the last: after any fold
const sub = tf.model({ inputs: model.inputs,
                       outputs: probes.map((p) => model.getLayer(kerasOfProbe[p]).output) });
const C0 = klayers[0].config.batch_input_shape
  ? klayers[0].config.batch_input_shape[3] : klayers[0].config.batch_shape[3];
const rgb = new Float32Array(H0 * W0 * C0);
for (let p = 0; p < H0 * W0; p++) for (let c = 0; c < C0; c++) rgb[p * C0 + c] = img[p];
let acts = sub.predict(tf.tensor4d(rgb, [1, H0, W0, C0]));
if (!Array.isArray(acts)) acts = [acts];

// ------------------------------------------------------------- write
const h5path = outPrefix + ".h5", cfgPath = outPrefix + ".cfg";
await h5wasm.ready;
const f = new h5wasm.File(h5path, "w");
const group = (root, parts) => parts.reduce((g, p) => g.get(p) || g.create_group(p), root);
const wg = group(f, ["weights", "trained"]);
for (const l of layers.filter((x) => x.type === "conv")) {
  const g = wg.create_group(l.name);
  g.create_dataset({ name: "W", data: l.W, shape: l.wshape, dtype: "<f" });
  g.create_dataset({ name: "b", data: l.b, shape: [l.b.length], dtype: "<f" });
}
const cg = group(f, ["check"]);
cg.create_dataset({ name: "input", data: img, shape: [1, H0, W0], dtype: "<f" });
probes.forEach((p, i) => {
  const t = acts[i], [, h, w, c] = t.shape, d = t.dataSync(), chw = new Float32Array(d.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) chw[(k * h + y) * w + x] = d[(y * w + x) * c + k];
  cg.create_group(p).create_dataset({ name: "out", data: chw, shape: [c, h, w], dtype: "<f" });
});
f.close();

const keyLine = (l) => {
  const kv = [`type = "${l.type}";`, `name = "${l.name}";`];
  if (l.type === "conv") {
    kv.push(`out = ${l.out};`, `kernel = ${l.kernel};`);
    if (l.stride !== 1) kv.push(`stride = ${l.stride};`);
    if (l.pad) kv.push(`pad = ${l.pad};`);
    if (l.groups !== 1) kv.push(`groups = ${l.groups};`);
  } else if (l.type === "zeropad") kv.push(`pad = ${l.pad};`, `pad_after = ${l.pad_after};`);
  else if (l.type === "relu" && l.max) kv.push(`max = ${Number(l.max).toFixed(1)};`);
  else if (l.type === "add") kv.push(`from = "${l.from}";`);
  return `    { ${kv.join(" ")} }`;
};
const name = opts.name || path.basename(outPrefix);
const fmt = (x) => (Number.isInteger(x) ? x.toFixed(1) : String(x));
const cfg = `# ${name}: a network converted by scripts/import-tfjs.mjs from
#   ${path.resolve(modelArg)}
# (Keras layers up to ${current}${stoppedAt ? `; stopped before ${stoppedAt}` : ""}),
# probed for orientation sensitivity as in the natural-image experiment of
# Benjamin et al. 2022 (Fig. 2): D(y_l; theta) of every probed layer for
# the trained network (the file's weights as loaded), its weights shuffled
# within each tensor, and the architecture's random start.  The Gabor
# is the paper's (period and envelope 50 px of a 224-px image, scaled to
# this input, amplitude 1), mapped to the network's input range by
# model.input_offset and input_scale.  Nothing is trained here; the
# photographs only fill the path's tables.
#
#   plastix run ${cfgPath}

experiment = { name = "${name}"; seed = 1; };

task = { type = "natural_images"; };

# the photographs (unused but read) at a size that holds rotated crops
images = { crop = ${H0}; width = ${Math.max(480, 5 * H0)}; holdout = 0.5; };

model = {
  type = "deepnet";
  pretrained = "${path.basename(h5path)}";
  pretrained_group = "/weights/trained";
  input_offset = ${fmt(opts.offset)};
  input_scale = ${fmt(opts.scale)};
  init_scale = 2.45;
  layers = (
${layers.map(keyLine).join(",\n")}
  );
};

train = { batch = 1; };

probe = { layers = [${probes.map((p) => `"${p}"`).join(", ")}];
          orientations = 36; phases = 8; };

conditions = { run = ["trained", "untrained", "shuffled"]; };

output = { figures = ["png"]; };
`;
fs.writeFileSync(cfgPath, cfg);
process.stderr.write(`import-tfjs: ${layers.length} plastix layers (${
  layers.filter((l) => l.type === "conv").length} conv) up to ${lastName}` +
  `${stoppedAt ? `, stopped before ${stoppedAt}` : ""}; wrote ${h5path} and ${cfgPath}\n`);
