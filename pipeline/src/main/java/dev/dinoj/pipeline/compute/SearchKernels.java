package dev.dinoj.pipeline.compute;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * The vector-search kernels of curation, each one TorchScript call (a {@link TorchScriptModule} compiled once per
 * JVM): a blocked GEMM of queries against a base with a fused top-k selection, optionally in bfloat16 with a float32
 * re-rank of the candidates, and the nearest-centroid assignment of k-means with a float32 re-check of the bfloat16
 * front-runners.
 *
 * <p><b>Selection.</b> A score block {@code [m, L]} is cut into {@code g} strided slices of width {@code w = L / g};
 * the column-wise maximum over the slices (a vectorised pass) gives {@code w} group maxima per row, whose top
 * {@code kc} groups hold the row's top {@code kc} scores (every top score lies in a group whose maximum is at least as
 * high). Only those {@code kc · g} scores are gathered and ranked, so the per-element cost of the selection is one
 * max pass instead of {@code torch.topk}'s pair-building partial sort. {@code g = 1} ranks the block directly.
 *
 * <p><b>bfloat16 handles.</b> {@link #toBfloat16} returns a DJL array that holds a bfloat16 tensor, which DJL 0.36
 * cannot describe: pass it only back into these kernels and close it; never ask for its data type, data or string
 * form (DJL's data-type lookup has no bfloat16 and aborts).
 *
 * <p>Thread-safe.
 */
public final class SearchKernels {
    private static final String SOURCE = String.join(
            "\n",
            "  def to_bf16(self, x: Tensor, rows: Tensor) -> Tensor:",
            "    r = int(rows)",
            "    y = torch.to(x, 15)",
            "    if r > y.size(0):",
            "      pad = torch.zeros([r - y.size(0), y.size(1)], dtype=15, device=x.device)",
            "      y = torch.cat([y, pad], 0)",
            "    return y",
            "  def select(self, s: Tensor, kc: int, g: int) -> Tuple[Tensor, Tensor]:",
            "    m = s.size(0)",
            "    L = s.size(1)",
            "    if g <= 1 or L % g != 0 or L // g < 2 * kc:",
            "      return torch.topk(s, min(kc, L), 1)",
            "    w = L // g",
            "    gm = torch.amax(s.view([m, g, w]), [1])",
            "    gv, gi = torch.topk(gm, kc, 1, True, False)",
            "    offs = torch.mul(torch.arange(g, device=s.device), w).view([1, 1, g])",
            "    idx = torch.add(gi.unsqueeze(2), offs).view([m, kc * g])",
            "    tv, tj = torch.topk(torch.gather(s, 1, idx), kc, 1)",
            "    return tv, torch.gather(idx, 1, tj)",
            // p: [n, kc, k, cb, g, bf16]; base: the searched copy (bf16 with rows padded to a multiple of g, or
            // base32 itself); returns the top k of each query: fp32 scores [m, k], int64 ids [m, k]
            "  def knn(self, q: Tensor, base: Tensor, base32: Tensor, p: Tensor) -> Tuple[Tensor, Tensor]:",
            "    n = int(p[0])",
            "    kc = int(p[1])",
            "    k = int(p[2])",
            "    cb = int(p[3])",
            "    g = int(p[4])",
            "    low = int(p[5]) == 1",
            "    m = q.size(0)",
            "    rows = base.size(0)",
            "    qs = q",
            "    if low:",
            "      qs = torch.to(q, 15)",
            "    buf = torch.empty([m, min(cb, rows)], dtype=qs.dtype, device=q.device)",
            "    vals: List[Tensor] = []",
            "    ids: List[Tensor] = []",
            "    for s0 in range(0, rows, cb):",
            "      ln = min(cb, rows - s0)",
            "      bt = torch.t(torch.narrow(base, 0, s0, ln))",
            "      if ln == buf.size(1):",
            "        s = torch.matmul(qs, bt, out=buf)",
            "      else:",
            "        s = torch.matmul(qs, bt)",
            "      if s0 + ln > n:",
            "        torch.narrow(s, 1, n - s0, s0 + ln - n).fill_(float('-inf'))",
            "      v, i = self.select(s, min(kc, ln), g)",
            "      vals.append(v)",
            "      ids.append(torch.add(i, s0))",
            "    v = vals[0]",
            "    i = ids[0]",
            "    if len(vals) > 1:",
            "      v, j = torch.topk(torch.cat(vals, 1), min(kc, n), 1)",
            "      i = torch.gather(torch.cat(ids, 1), 1, j)",
            "    if not low:",
            "      kk = min(k, v.size(1))",
            "      return torch.narrow(v, 1, 0, kk), torch.narrow(i, 1, 0, kk)",
            "    c = i.size(1)",
            "    cand = torch.index_select(base32, 0, torch.reshape(i, [-1])).view([m, c, base32.size(1)])",
            "    ex = torch.matmul(cand, q.unsqueeze(2)).squeeze(2)",
            "    ev, ej = torch.topk(ex, min(k, c), 1)",
            "    return ev, torch.gather(i, 1, ej)",
            // one inverted list: rows of q [., d] (int64 [m]) against rows [s0, s0 + ln) of base; p: [s0, ln];
            // returns the scores [m, ln] (fp32)
            "  def scores_list(self, q: Tensor, rows: Tensor, base: Tensor, p: Tensor) -> Tensor:",
            "    bt = torch.t(torch.narrow(base, 0, int(p[0]), int(p[1])))",
            "    return torch.matmul(torch.index_select(q, 0, rows), bt)",
            // p: [top, g, bf16, chunk]; x32 [b, d] rows, x16 their bf16 copy (or x32), c [k, d] centroids, half [k]
            // their halved squared norms; returns the best x·c − ‖c‖²/2 (fp32 [b]) and its centroid (int64 [b]).
            // Rows go through in chunks so the temporaries stay small (no page-faulting allocations).
            "  def assign(self, x32: Tensor, x16: Tensor, c: Tensor, half: Tensor, p: Tensor)"
                    + " -> Tuple[Tensor, Tensor]:",
            "    top = min(int(p[0]), c.size(0))",
            "    g = int(p[1])",
            "    low = int(p[2]) == 1",
            "    chunk = int(p[3])",
            "    b = x32.size(0)",
            "    d = c.size(1)",
            "    best = torch.empty([b], dtype=6, device=x32.device)",
            "    arg = torch.empty([b], dtype=4, device=x32.device)",
            "    neg = torch.neg(half)",
            "    ct = torch.t(c)",
            "    neg16 = neg",
            "    if low:",
            "      ct = torch.t(torch.to(c, 15))",
            "      neg16 = torch.to(neg, 15)",
            "    for s0 in range(0, b, chunk):",
            "      ln = min(chunk, b - s0)",
            "      xs = torch.narrow(x32, 0, s0, ln)",
            "      if low:",
            "        s = torch.addmm(neg16, torch.narrow(x16, 0, s0, ln), ct)",
            "        tv, ti = self.select(s, top, g)",
            "        t = ti.size(1)",
            "        flat = torch.reshape(ti, [-1])",
            "        cand = torch.index_select(c, 0, flat).view([ln, t, d])",
            "        ex = torch.add(torch.matmul(cand, xs.unsqueeze(2)).squeeze(2),"
                    + " torch.index_select(neg, 0, flat).view([ln, t]))",
            "        v, j = torch.max(ex, 1)",
            "        i = torch.gather(ti, 1, j.unsqueeze(1)).squeeze(1)",
            "      else:",
            "        v, i = torch.max(torch.addmm(neg, xs, ct), 1)",
            "      torch.narrow(best, 0, s0, ln).copy_(v)",
            "      torch.narrow(arg, 0, s0, ln).copy_(i)",
            "    return best, arg",
            "");

    private static volatile TorchScriptModule module;

    private SearchKernels() {}

    private static TorchScriptModule module() {
        TorchScriptModule m = module;
        if (m == null) {
            synchronized (SearchKernels.class) {
                m = module;
                if (m == null) {
                    m = TorchScriptModule.compile("DinojSearchKernels", SOURCE, Device.cpu());
                    module = m;
                }
            }
        }
        return m;
    }

    /**
     * A bfloat16 copy of a float32 matrix, with zero rows appended up to {@code rows} (see the class comment on
     * handles); attached to {@code x}'s manager.
     */
    public static NDArray toBfloat16(NDArray x, int rows) {
        return module().call1("to_bf16", false, x, x.getManager().create((long) rows));
    }

    /**
     * Exact top-k inner-product search of a query block against a base.
     *
     * @param queries    {@code [m, d]} float32
     * @param searched   the base as searched: {@link #toBfloat16} of {@code base32} (rows padded to a multiple of
     *                   {@code group}) when {@code bfloat16}, else {@code base32} itself
     * @param base32     {@code [n, d]} float32 base (re-ranks the bfloat16 candidates)
     * @param n          real base rows (the padded ones are never returned)
     * @param candidates bfloat16 candidates re-ranked in float32 per query ({@code ≥ k}; ignored for float32)
     * @param k          results per query
     * @param colBlock   base rows per GEMM (a multiple of {@code group})
     * @param group      selection group count ({@code 1} = plain top-k)
     * @param bfloat16   search in bfloat16 and re-rank in float32
     * @return scores ({@code [m, min(k, n)]} float32, descending) and base ids (int64), attached to the queries'
     *     manager
     */
    public static NDList knn(
            NDArray queries,
            NDArray searched,
            NDArray base32,
            int n,
            int candidates,
            int k,
            int colBlock,
            int group,
            boolean bfloat16) {
        int kc = Math.min(n, bfloat16 ? Math.max(candidates, k) : k);
        NDArray p = queries.getManager().create(new long[] {n, kc, k, colBlock, group, bfloat16 ? 1 : 0});
        try {
            return module().call("knn", false, queries, searched, base32, p);
        } finally {
            p.close();
        }
    }

    /**
     * The inner products of rows {@code rows} (int64) of a query block with one inverted list, rows {@code [first,
     * first + length)} of {@code base}: {@code [rows, length]} float32, attached to the queries' manager.
     */
    public static NDArray scoresList(NDArray queries, NDArray rows, NDArray base, int first, int length) {
        NDArray p = queries.getManager().create(new long[] {first, length});
        try {
            return module().call1("scores_list", false, queries, rows, base, p);
        } finally {
            p.close();
        }
    }

    /**
     * Nearest centroid of each row by {@code argmax x·c − ‖c‖²/2}.
     *
     * @param x32      {@code [b, d]} float32 rows
     * @param x16      their {@link #toBfloat16} copy when {@code bfloat16}, else {@code x32}
     * @param c        {@code [k, d]} float32 centroids
     * @param half     {@code [k]} float32 halved squared norms of the centroids
     * @param recheck  bfloat16 front-runners re-scored in float32 per row (≥ 1; ignored for float32)
     * @param group    selection group count ({@code 1} = plain top-k)
     * @param bfloat16 score in bfloat16, re-check the front-runners in float32
     * @param chunk    rows per GEMM inside the call
     * @return the best score (float32 {@code [b]}) and its centroid (int64 {@code [b]})
     */
    public static NDList assign(
            NDArray x32, NDArray x16, NDArray c, NDArray half, int recheck, int group, boolean bfloat16, int chunk) {
        NDArray p =
                x32.getManager().create(new long[] {Math.max(1, recheck), group, bfloat16 ? 1 : 0, Math.max(1, chunk)});
        try {
            return module().call("assign", false, x32, x16, c, half, p);
        } finally {
            p.close();
        }
    }
}
