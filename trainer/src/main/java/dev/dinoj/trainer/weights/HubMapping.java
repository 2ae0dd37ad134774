package dev.dinoj.trainer.weights;

import dev.dinoj.trainer.io.NpyArray;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the tensors of one file become backbone tensors in the dinov2 hub names: the file's layout and the prefix of
 * its backbone (e.g. {@code backbone.} in a dinoj checkpoint's {@code teacher.safetensors}, {@code dinov2.} in a
 * transformers classifier) detected from the names, and for every hub tensor the file tensors it is made of. Decided
 * from the header's names and shapes alone; {@link #apply} then builds the tensors.
 */
final class HubMapping {

    /** How a hub tensor is made of file tensors. */
    enum Op {
        /** the one file tensor as it is */
        COPY,
        /** the file tensors stacked along their first dimension (q, k, v → qkv; gate, value → w12) */
        CONCAT,
        /** a (1, N, D) position embedding without a CLS slot, given one of zeros in front: (1, 1 + N, D) */
        PREPEND_ZERO_TOKEN
    }

    /** One hub tensor: the file tensors it is made of (full names), how, and its shape. */
    record Part(List<String> from, Op op, long[] shape) {}

    private static final String CLS = "cls_token";
    private static final String HF_CLS = "embeddings.cls_token";
    private static final Pattern CHUNKED = Pattern.compile("blocks\\.\\d+\\.(\\d+)\\.(.+)");
    private static final Pattern HF_LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");
    private static final Pattern HF_QKV = Pattern.compile("attention\\.attention\\.(query|key|value)\\.(weight|bias)");
    private static final Pattern TIMM_MLP = Pattern.compile("blocks\\.(\\d+)\\.mlp\\.(fc1|fc2|fc1_g|fc1_x)\\.(.+)");

    private final Path source;
    private final WeightLayout layout;
    private final String prefix;
    private final LinkedHashMap<String, Part> parts = new LinkedHashMap<>();

    private HubMapping(Path source, WeightLayout layout, String prefix) {
        this.source = source;
        this.layout = layout;
        this.prefix = prefix;
    }

    /**
     * Detects the layout of a file from its tensor names and plans the hub tensors.
     *
     * @throws IllegalArgumentException one line naming the file: no backbone, several, or a tensor this layout does
     *     not have
     */
    static HubMapping of(Path source, Map<String, long[]> shapes) {
        TreeMap<String, WeightLayout> found = new TreeMap<>(); // prefix → layout
        for (String k : shapes.keySet()) {
            if (endsWithName(k, HF_CLS)) {
                found.put(k.substring(0, k.length() - HF_CLS.length()), WeightLayout.TRANSFORMERS);
            } else if (endsWithName(k, CLS)) {
                found.put(k.substring(0, k.length() - CLS.length()), null);
            }
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException(source + ": no cls_token tensor: not a ViT backbone in the dinov2, "
                    + "transformers or timm layout");
        }
        String prefix = found.firstKey();
        if (found.size() > 1) {
            List<String> teachers =
                    found.keySet().stream().filter(p -> p.contains("teacher")).toList();
            if (teachers.size() != 1) {
                throw new IllegalArgumentException(source + ": holds several backbones (cls_token under the prefixes "
                        + String.join(", ", found.keySet()) + "); give a file with one");
            }
            prefix = teachers.get(0);
        }
        WeightLayout layout = found.get(prefix) != null ? found.get(prefix) : blocksLayout(shapes, prefix);
        HubMapping m = new HubMapping(source, layout, prefix);
        m.plan(shapes);
        return m;
    }

    /** dinov2 or timm: timm has {@code reg_token} and never a {@code mask_token}; dinov2 always has the latter. */
    private static WeightLayout blocksLayout(Map<String, long[]> shapes, String prefix) {
        if (shapes.containsKey(prefix + "reg_token")) {
            return WeightLayout.TIMM;
        }
        boolean dinov2 = shapes.containsKey(prefix + "mask_token")
                || shapes.containsKey(prefix + "register_tokens")
                || shapes.keySet().stream().anyMatch(k -> k.startsWith(prefix) && k.contains(".mlp.w12."));
        return dinov2 ? WeightLayout.DINOV2 : WeightLayout.TIMM;
    }

    private static boolean endsWithName(String key, String name) {
        return key.endsWith(name)
                && (key.length() == name.length() || key.charAt(key.length() - name.length() - 1) == '.');
    }

    WeightLayout layout() {
        return layout;
    }

    /** The backbone's prefix in the file ("" when its names have none). */
    String prefix() {
        return prefix;
    }

    /** Hub name → how it is made, in the file's order. */
    Map<String, Part> parts() {
        return parts;
    }

    /** Shapes of the hub tensors. */
    Map<String, long[]> hubShapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        parts.forEach((k, p) -> out.put(k, p.shape()));
        return out;
    }

    /** The file's name of hub tensor {@code hub}: the first it is made of, or the layout's name for a missing one. */
    String fileName(String hub) {
        Part p = parts.get(hub);
        return p != null ? p.from().get(0) : prefix + layout.fileName(hub);
    }

    private void plan(Map<String, long[]> shapes) {
        Map<String, List<String>> groups = new LinkedHashMap<>(); // hub name → file names, for CONCAT
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith(prefix)) {
                continue; // e.g. a checkpoint's heads, a classifier around the backbone
            }
            String rest = k.substring(prefix.length());
            switch (layout) {
                case DINOV2 -> {
                    Matcher c = CHUNKED.matcher(rest);
                    copy(c.matches() ? "blocks." + c.group(1) + "." + c.group(2) : rest, k, e.getValue());
                }
                case TRANSFORMERS -> transformers(rest, k, e.getValue(), groups);
                default -> timm(rest, k, shapes, groups);
            }
        }
        groups.forEach((hub, from) -> concat(hub, from, shapes));
    }

    private void transformers(String rest, String key, long[] shape, Map<String, List<String>> groups) {
        String top = WeightLayout.TRANSFORMERS_TOP.get(rest);
        if (top != null) {
            copy(top, key, shape);
            return;
        }
        Matcher layer = HF_LAYER.matcher(rest);
        if (layer.matches()) {
            String block = "blocks." + layer.group(1) + ".";
            String inner = layer.group(2);
            Matcher qkv = HF_QKV.matcher(inner);
            if (qkv.matches()) {
                List<String> g = groups.computeIfAbsent(block + "attn.qkv." + qkv.group(2), x -> new ArrayList<>());
                g.add(key); // ordered below
                return;
            }
            for (String[] r : WeightLayout.TRANSFORMERS_BLOCK) {
                if (inner.startsWith(r[0])) {
                    copy(block + r[1] + inner.substring(r[0].length()), key, shape);
                    return;
                }
            }
        }
        throw unexpected(key);
    }

    private void timm(String rest, String key, Map<String, long[]> shapes, Map<String, List<String>> groups) {
        long[] shape = shapes.get(key);
        if (rest.equals("reg_token")) {
            copy("register_tokens", key, shape);
            return;
        }
        if (rest.equals("head.weight") || rest.equals("head.bias")) {
            return; // a classifier on the features (none in the dinov2 models)
        }
        if (rest.equals("pos_embed") && shape.length == 3 && isSquare(shape[1])) {
            // no_embed_class: no CLS slot; the CLS position is part of cls_token
            parts.put("pos_embed", new Part(List.of(key), Op.PREPEND_ZERO_TOKEN, new long[] {1, shape[1] + 1, shape[2]
            }));
            return;
        }
        Matcher m = TIMM_MLP.matcher(rest);
        if (m.matches()) {
            String block = prefix + "blocks." + m.group(1) + ".mlp.";
            String hub = "blocks." + m.group(1) + ".mlp.";
            String kind = m.group(2);
            if (shapes.containsKey(block + "fc1_g.weight")) { // SwiGLU: x = SiLU(fc1_g(x)) · fc1_x(x)
                if (kind.equals("fc2")) {
                    copy(hub + "w3." + m.group(3), key, shape);
                } else {
                    List<String> g = groups.computeIfAbsent(hub + "w12." + m.group(3), x -> new ArrayList<>());
                    g.add(key);
                }
                return;
            }
            long[] fc1 = shapes.get(block + "fc1.weight");
            long[] fc2 = shapes.get(block + "fc2.weight");
            boolean packed = fc1 != null && fc2 != null && fc1.length == 2 && fc2.length == 2 && fc1[0] == 2 * fc2[1];
            String name = packed ? (kind.equals("fc1") ? "w12." : "w3.") : kind + ".";
            copy(hub + name + m.group(3), key, shape);
            return;
        }
        copy(rest, key, shape);
    }

    /** Stacks a group in its canonical order (q, k, v; gate, value), each member required. */
    private void concat(String hub, List<String> from, Map<String, long[]> shapes) {
        String first = from.get(0);
        String[] order =
                hub.contains(".attn.qkv.") ? new String[] {"query", "key", "value"} : new String[] {"fc1_g", "fc1_x"};
        String suffix = hub.substring(hub.lastIndexOf('.') + 1);
        String stem = first.contains(".attention.attention.")
                ? first.substring(0, first.indexOf(".attention.attention.") + ".attention.attention.".length())
                : first.substring(0, first.lastIndexOf(".fc1_") + 1);
        List<String> ordered = new ArrayList<>();
        long rows = 0;
        long[] tail = null;
        for (String o : order) {
            String name = stem + o + "." + suffix;
            long[] s = shapes.get(name);
            if (s == null) {
                throw new IllegalArgumentException(source + ": missing tensor " + name + " (" + layout + " layout)");
            }
            long[] t = s.length == 0 ? null : Arrays.copyOfRange(s, 1, s.length);
            if (t == null || (tail != null && !Arrays.equals(tail, t))) {
                throw new IllegalArgumentException(source + ": tensor " + name + " has shape " + Arrays.toString(s)
                        + ", which cannot be stacked with " + (ordered.isEmpty() ? "the others" : ordered.get(0)));
            }
            tail = t;
            rows += s[0];
            ordered.add(name);
        }
        long[] shape = new long[tail.length + 1];
        shape[0] = rows;
        System.arraycopy(tail, 0, shape, 1, tail.length);
        parts.put(hub, new Part(ordered, Op.CONCAT, shape));
    }

    private void copy(String hub, String key, long[] shape) {
        if (parts.containsKey(hub)) {
            throw new IllegalArgumentException(source + ": tensors "
                    + parts.get(hub).from().get(0) + " and " + key + " are the same backbone tensor " + hub);
        }
        parts.put(hub, new Part(List.of(key), Op.COPY, shape));
    }

    private IllegalArgumentException unexpected(String key) {
        return new IllegalArgumentException(
                source + ": unexpected tensor " + key + " (not a backbone tensor of the " + layout + " layout)");
    }

    private static boolean isSquare(long n) {
        long r = Math.round(Math.sqrt(n));
        return n > 0 && r * r == n;
    }

    /** The hub tensors of {@code file}'s tensors (its full names), in the file's order. */
    Map<String, NpyArray> apply(Map<String, NpyArray> file) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Part> e : parts.entrySet()) {
            Part p = e.getValue();
            float[] data = new float[Math.toIntExact(NpyArray.numel(p.shape()))];
            int at = p.op() == Op.PREPEND_ZERO_TOKEN ? (int) p.shape()[2] : 0;
            for (String name : p.from()) {
                float[] src = file.get(name).asFloats();
                System.arraycopy(src, 0, data, at, src.length);
                at += src.length;
            }
            out.put(e.getKey(), NpyArray.ofFloats(e.getKey(), p.shape(), data));
        }
        return out;
    }
}
