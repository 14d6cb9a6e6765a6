// What each layer computes, in words: the rows' explanations, and the
// sentence a layer folded into a block adds to it.
import { channelSource, number } from "./calc.js";
import { normAxes } from "./calc_norm.js";

export const explain = {
  Conv2D: (c, l) => `${c.filters} filters of ${size(c.kernel_size)} slide over the previous maps${apart(c)}; each tile is one filter's response${act(c)}.${grouped(c, l)}${dilated(c)}`,
  DepthwiseConv2D: (c) => `${depthwise(c)}${dilated(c)}`,
  MaxPooling2D: (c) => `Keeps the largest value of each ${size(c.pool_size)} window: maps shrink, strong responses stay.`,
  AveragePooling2D: (c) => `Averages each ${size(c.pool_size)} window: maps shrink.`,
  ZeroPadding2D: (c) => `Adds a border of zeros around each map (${pad(c.padding)}), so that the next window also covers the edges.`,
  Cropping2D: (c) => `Cuts rows and columns off the edges of each map (${pad(c.cropping)}).`,
  UpSampling2D: (c) => (c.interpolation === "bilinear"
    ? `Enlarges each map ${c.size[0]}×${c.size[1]} times, each new cell a blend of the nearest cells around it (bilinear).`
    : `Enlarges each map ${c.size[0]}×${c.size[1]} times by repeating each cell.`),
  Resizing: (c) => `${c.crop_to_aspect_ratio ? `Cuts the largest centred window of the output's proportions (${c.height}:${c.width}) out of each map, then resizes it` : "Resizes each map"} to ${c.height}×${c.width}, each cell ${c.interpolation === "nearest" ? "a copy of the nearest cell" : "a blend of the nearest cells around it (bilinear)"}.`,
  GlobalAveragePooling2D: (c) => (c.keepdims
    ? "Averages each map down to a single number, kept as a 1×1 map: one value per channel, which the next layers can weigh and multiply the maps by (squeeze and excitation)."
    : "Averages each map down to a single number."),
  GlobalMaxPooling2D: () => "Keeps the largest value of each map.",
  BatchNormalization: () => "Rescales each channel with statistics learned in training.",
  Dropout: (c) => (c.noise_shape
    ? `Only active during training, where it drops ${dropped(c.noise_shape)} at random, one draw for each cell of its noise shape (${c.noise_shape.map((d) => (d === null ? "None" : d)).join(", ")}); at prediction time values pass through unchanged.`
    : "Only active during training; at prediction time values pass through unchanged."),
  SpatialDropout2D: () => "Only active during training, where it drops whole maps at random; at prediction time values pass through unchanged.",
  GaussianNoise: (c) => `Only active during training, where it adds random noise (a normal distribution of spread ${c.stddev}) to every value; at prediction time values pass through unchanged.`,
  GaussianDropout: (c) => `Only active during training, where it multiplies every value by random noise around 1 (the spread of dropout at rate ${c.rate}, without its zeros); at prediction time values pass through unchanged.`,
  AlphaDropout: () => "Only active during training, where it sets values at random to selu's lowest value and rescales them all so that their mean and spread stay the same; at prediction time values pass through unchanged.",
  Flatten: () => "Lays the maps out as one long vector for the dense layers.",
  Reshape: (c, l) => `Lays the same values out again as ${l && l.output_shape ? l.output_shape.join("×") : (c.target_shape || []).join("×")}, in order${l && l.output_shape && l.output_shape.length === 3 && l.output_shape[0] * l.output_shape[1] === 1 ? ": one value per channel, kept as a 1×1 map that the next layers can weigh and multiply the maps by (squeeze and excitation)" : ""}.`,
  Dense: (c, l) => (l && l.output_shape && l.output_shape.length === 3
    ? `${c.units} units at every pixel, each a weighted sum of that pixel's channels (a 1×1 convolution)${act(c)}.`
    : `${c.units} units, each a weighted sum of every input${act(c)}.`),
  Activation: (c) => `Applies ${fnText(c.activation)} to every value.`,
  PReLU: (c, l) => `Keeps each positive value and multiplies the others by a slope learned in training, ${slopes(c, l)}: a ReLU that lets part of the negative evidence through.`,
  ReLU: (c) => (c.max_value ? `min(max(0, x), ${c.max_value}): keeps positive evidence, up to ${c.max_value}.` : "max(0, x): keeps positive evidence only."),
  Softmax: () => "Turns scores into probabilities that sum to 1.",
  Add: () => "Adds its inputs value by value: the block's result plus the shortcut, a skip connection.",
  Multiply: () => "Multiplies its inputs value by value; an input of size 1 along an axis is repeated along it, so a 1×1 map of channel weights scales every pixel of its channel (squeeze and excitation).",
  Average: () => "Averages its inputs value by value; an input of size 1 along an axis is repeated along it.",
  Maximum: () => "Keeps the largest of its inputs, value by value; an input of size 1 along an axis is repeated along it.",
  Minimum: () => "Keeps the smallest of its inputs, value by value; an input of size 1 along an axis is repeated along it.",
  Subtract: () => "Subtracts its second input from its first, value by value; an input of size 1 along an axis is repeated along it (a map less its mean).",
  ScaledAdd: (c) => `Adds its second input times ${c.scale} to its first, value by value: a residual branch scaled down before it joins the shortcut, which keeps a deep network's sums steady in training (Inception-ResNet's).`,
  Concatenate: (c) => `Stacks its inputs' ${{ 1: "rows, one above the other", 2: "columns side by side" }[c.axis] || "channels side by side"}.`,
  ChannelSlice: (c, l) => `Keeps channels ${c.start}–${c.end - 1} of its input and drops the others: ${part(l)} k is input channel ${c.start} + k, unchanged. ` +
    "ShuffleNet v2 splits the channels in two this way: one half goes through convolutions, the other passes as it is, and a concatenation joins them again.",
  ChannelShuffle: (c, l) => shuffle(c, l),
  Normalization: (c, l) => {
    const from = c.mean != null ? "given with the model" : "measured on the training data before training (Keras's adapt)";
    return c.invert
      ? `Undoes a normalization: multiplies each value by the spread and adds the mean, ${from}, ${stats(c, l)}; nothing learned.`
      : `Centres and scales each value with the mean and spread ${from}, ${stats(c, l)}: (x − mean) ÷ √variance; nothing learned.`;
  },
  LayerScale: () => "Multiplies each channel by a scale learned in training (ConvNeXt's layer scale: it starts near 0, so the branch it ends first adds almost nothing).",
  GroupNormalization: (c, l) => `Centres and scales each image's channels in ${groupsOf(c, l)}, each group with the mean and spread of its values at every pixel, measured anew for every image: (x − mean) ÷ √(variance + ${c.epsilon})${learned(c).replace("a scale plus an offset", "a scale plus an offset per channel")}.`,
  LayerNormalization: (c, l) => `Centres and scales the values of each image with their own mean and spread, ${lnOver(c, l)}, measured anew for every image: (x − mean) ÷ √(variance + ${c.epsilon})${learned(c)}.`,
  Rescaling: (c) => `Multiplies every value by ${affine(c, " and adds ")}: ${Array.isArray(c.scale) || Array.isArray(c.offset) ? "the same change everywhere in a channel" : "the same change everywhere"}, nothing learned` +
    (!Array.isArray(c.scale) && number(c.scale) === "1/255" && !c.offset ? " (pixels 0–255 become 0–1)." : "."),
};
// formulas say what each activation function computes, for the rows.
const formulas = {
  relu: "max(0, x)",
  relu6: "min(max(0, x), 6)",
  leaky_relu: "x, or 0.2·x below 0",
  elu: "x, or eˣ − 1 below 0",
  prelu: "x, or a learned slope times x below 0",
  selu: "1.0507·x, or 1.7581·(eˣ − 1) below 0, which keeps the values' mean near 0 and their spread near 1",
  gelu: "x·Φ(x), x weighed by the chance that a normal variable is below it: a smooth ReLU",
  sigmoid: "1 / (1 + e⁻ˣ), between 0 and 1",
  tanh: "between −1 and 1",
  softmax: "scores turned into probabilities that sum to 1",
  softplus: "log(1 + eˣ), a smooth ReLU",
  softsign: "x / (1 + |x|), between −1 and 1",
  silu: "x·sigmoid(x)",
  swish: "x·sigmoid(x)",
  mish: "x·tanh(softplus(x))",
  hard_sigmoid: "min(max(0, x + 3), 6) / 6",
  hard_silu: "x·hard_sigmoid(x)",
  hard_swish: "x·hard_sigmoid(x)",
};
const fnText = (name) => (formulas[name] ? `${name}, ${formulas[name]}` : name);
// slopes says what a PReLU's slopes vary with: the axes it does not share
// them along.
function slopes(c, l) {
  const shared = c.shared_axes || [];
  const rank = l && l.output_shape ? l.output_shape.length : 3;
  const names = rank === 3 ? ["row", "column", "channel"] : rank === 1 ? ["unit"] : [...Array(rank).keys()].map((a) => `axis ${a + 1}`);
  const vary = names.filter((_, a) => !shared.includes(a + 1));
  if (!vary.length) return "one for every value";
  return "one per " + (vary.length === 1 ? vary[0] : `${vary.slice(0, -1).join(", ")} and ${vary[vary.length - 1]}`);
}
// stats says what a Normalization's statistics vary with: the axes it
// keeps (Keras's axis, -1 the last; [] or null one for all).
function stats(c, l) {
  const rank = l && l.output_shape ? l.output_shape.length : 3;
  const names = rank === 3 ? ["row", "column", "channel"] : rank === 1 ? ["unit"] : [...Array(rank).keys()].map((a) => `axis ${a + 1}`);
  const axes = c.axis === undefined ? [-1] : [].concat(c.axis === null ? [] : c.axis);
  const kept = names.filter((_, a) => axes.some((k) => (k < 0 ? k + rank : k - 1) === a));
  if (!kept.length) return "one pair for all values";
  return "one per " + (kept.length === 1 ? kept[0] : `${kept.slice(0, -1).join(", ")} and ${kept[kept.length - 1]}`);
}
// lnOver says over which axes a LayerNormalization takes its statistics
// (Keras's axis, -1 the last), and for what of the others.
function lnOver(c, l) {
  const rank = l && l.output_shape ? l.output_shape.length : 3;
  const names = rank === 3 ? ["rows", "columns", "channels"] : rank === 1 ? ["units"] : [...Array(rank).keys()].map((a) => `axis ${a + 1}`);
  const norm = normAxes(c, rank);
  const over = names.filter((_, a) => norm[a]), per = names.filter((_, a) => !norm[a]);
  const list = (v) => (v.length === 1 ? v[0] : `${v.slice(0, -1).join(", ")} and ${v[v.length - 1]}`);
  if (!per.length) return "taken over all its values at once";
  const each = per.length === 2 && per[0] === "rows" && per[1] === "columns" ? "pixel" : list(per.map((n) => n.replace(/s$/, "")));
  return `taken across its ${list(over)} for each ${each}`;
}
// groupsOf says how a GroupNormalization splits the channels.
function groupsOf(c, l) {
  const ch = l && l.output_shape ? l.output_shape[l.output_shape.length - 1] : 0;
  const g = c.groups > 0 ? c.groups : ch;
  if (g === ch) return `${g} groups of one channel each (instance normalization)`;
  if (g === 1) return "one group of all its channels";
  return `${g} groups of ${ch / g} channels`;
}
// learned says what a LayerNormalization learns: a scale (gamma) and an
// offset (beta) for each value it normalises together, unless left out.
const learned = (c) => (c.scale === false && c.center === false ? "; nothing learned"
  : c.scale === false ? ", plus an offset learned in training" : c.center === false ? ", times a scale learned in training"
    : ", times a scale plus an offset, learned in training");
// affine says what a Rescaling multiplies by and adds: numbers, or its
// channel's values when it has one per channel.
const affine = (c, plus) => `${Array.isArray(c.scale) ? "its channel's scale" : number(c.scale || 1)}` +
  `${Array.isArray(c.offset) ? `${plus}its channel's offset` : c.offset ? plus + number(c.offset) : ""}`;
const size = (k) => (Array.isArray(k) ? k.join("×") : `${k}×${k}`);
const pad = (p) => (Array.isArray(p) && p.length === 2 && Array.isArray(p[0]) ? `${p[0][0]} above, ${p[0][1]} below, ${p[1][0]} left, ${p[1][1]} right` : `${p} on each side`);
const act = (c) => (c.activation && c.activation !== "linear" ? `, then ${c.activation}` : "");
const apart = (c) => (c.strides && c.strides.some((s) => s > 1) ? `, ${size(c.strides)} apart` : "");

// dilated explains a Conv2D's or a DepthwiseConv2D's dilation_rate: its
// taps d apart, the kernel k covers (k-1)·d+1 rows and columns.
function dilated(c) {
  const d = c.dilation_rate;
  if (!d || (d[0] === 1 && d[1] === 1)) return "";
  const k = c.kernel_size, span = [(k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1];
  return ` Dilated: the kernel's taps are ${size(d)} pixels apart, so each ${c.filters ? "filter" : "kernel"} sees ${size(span)} of the map with ${size(k)} weights.`;
}

// grouped explains the groups of a Conv2D l: its kernel [kh, kw, C/g, F]
// gives filter f the C/g input channels of group floor(f / (F/g)).
function grouped(c, l) {
  const g = c.groups || 1;
  const kernel = l && l.params && l.params.find((p) => p.name === "kernel");
  if (g < 2 || !kernel) return "";
  const n = kernel.shape[2], f = c.filters / g;
  const tiles = (i) => (f === 1 ? `tile ${i} reads` : `tiles ${f * i}–${f * i + f - 1} read`);
  const chans = (i) => (n === 1 ? `channel ${i}` : `channels ${n * i}–${n * i + n - 1}`);
  return ` A grouped convolution: the ${n * g} input channels are cut into ${g} groups of ${n}, and each filter sees only its group's ${n === 1 ? "one channel" : `${n} channels`}: ` +
    `${tiles(0)} ${chans(0)}, ${tiles(1)} ${chans(1)}${g > 2 ? ", and so on" : ""}.`;
}

// depthwise explains a DepthwiseConv2D: output channel o reads input
// channel floor(o / M) alone.
function depthwise(c) {
  const m = c.depth_multiplier || 1, k = size(c.kernel_size);
  const tiles = (i) => (m === 1 ? `tile ${i}` : `tiles ${m * i}–${m * i + m - 1}`);
  return `A depthwise convolution: each previous map is filtered on its own by ${m === 1 ? `a ${k} kernel` : `${m} kernels of ${k}`} sliding over it${apart(c)}${act(c)}. ` +
    `Channels are never mixed: ${m === 1 ? "" : `each map gives ${m} tiles, `}${tiles(0)} ${m === 1 ? "comes" : "come"} from map 0, ${tiles(1)} from map 1, and so on.`;
}

// part names what one channel of layer l looks like on the page.
const part = (l) => (l && l.output_shape && l.output_shape.length !== 3 ? "bar" : "tile");

// shuffle explains a ChannelShuffle: the C channels, cut into g groups of
// n, are dealt out in turn, so that tile i·g + k is channel i of group k,
// input channel k·n + i.
function shuffle(c, l) {
  const g = c.groups || 1, C = l ? l.output_shape[l.output_shape.length - 1] : 0, n = C / g;
  const first = [];
  for (let o = 0; o < Math.min(C, 2 * g); o++) first.push(channelSource(l, o));
  return `Cuts the ${C} channels into ${g} groups of ${n} and deals them out in turn, like cards: ${part(l)}s 0–${first.length - 1} are input channels ${first.join(", ")}${C > first.length ? ", …" : ""} ` +
    `(${part(l)} i×${g} + k is channel i of group k); the maps are only reordered. ` +
    "ShuffleNet needs it because each filter of a grouped convolution sees only its own group's channels: without the shuffle, grouped convolutions would never mix information across groups; " +
    "with it, each group of the next one gets channels from every group.";
}

// dropped says what a Dropout with a noise shape drops at once: the values
// that share a draw along its axes of size 1.
function dropped(noise) {
  const per = noise.slice(1);
  if (per.every((d) => d === 1)) {
    return noise[0] === 1 ? "every value of the batch" : per.length === 3 ? "whole images" : "whole samples";
  }
  return per.length === 3 && per[0] === 1 && per[1] === 1 ? "whole maps" : "blocks of values";
}

const normThen = (c) => (c.invert ? "Then the spread and mean put back." : "Then centred and scaled by the data's mean and spread.");

// then is the sentence of a layer folded into the block before it.
export const then = (l) => (l.type === "Rescaling" ? `Then multiplied by ${affine(l.config || {}, ", plus ")}.` : l.type === "Normalization" ? normThen(l.config || {})
  : l.type === "Dropout" && l.config && l.config.noise_shape ? `Dropout of ${dropped(l.config.noise_shape)} (training only).` : {
  BatchNormalization: "Then normalised per channel.",
  LayerNormalization: "Then layer-normalised, each image with its own statistics.",
  GroupNormalization: "Then group-normalised, each image with its own statistics.",
  LayerScale: "Then each channel times its learned scale.",
  Dropout: "Dropout (training only).",
  SpatialDropout2D: "Dropout of whole maps (training only).",
  AlphaDropout: "Alpha dropout (training only).",
  GaussianNoise: "Gaussian noise (training only).",
  GaussianDropout: "Gaussian dropout (training only).",
  Softmax: "Then softmax.",
}[l.type] || `Then ${fnText((l.config && l.config.activation) || l.type.toLowerCase())}.`);
