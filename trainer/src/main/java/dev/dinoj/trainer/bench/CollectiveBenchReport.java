package dev.dinoj.trainer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/** All measurements of a run. */
public record CollectiveBenchReport(
        int ranks,
        String transport,
        String wire,
        List<CollectiveBench.Row> rows,
        double memcpyGBps,
        double memcpyReadWriteGBps,
        String machine,
        String date) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The human-readable table. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "collectives: %d ranks (one JVM each), transport %s, wire %s, %s, %s%n",
                ranks,
                transport,
                wire,
                machine,
                date));
        sb.append(String.format(
                Locale.ROOT,
                "%-15s %5s %9s %10s %6s %11s %11s %11s %7s%n",
                "op",
                "ranks",
                "size",
                "time ms",
                "iters",
                "algbw GB/s",
                "busbw GB/s",
                "gloo busbw",
                "x gloo"));
        for (CollectiveBench.Row r : rows) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%-15s %5d %9s %10.3f %6d %11.2f %11.2f %11s %7s%n",
                    r.op(),
                    r.ranks(),
                    CollectiveBench.size(r.bytes()),
                    r.seconds() * 1e3,
                    r.iterations(),
                    r.algBw(),
                    r.busBw(),
                    r.glooBusBw() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.glooBusBw()),
                    r.glooBusBw() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.busBw() / r.glooBusBw())));
        }
        sb.append(String.format(
                Locale.ROOT,
                "memcpy (1 thread, >= 128 MiB): %.2f GB/s copied = %.2f GB/s read+written%n",
                memcpyGBps,
                memcpyReadWriteGBps));
        sb.append(
                "gloo: torch.distributed gloo over 127.0.0.1, the reference figures in docs/COLLECTIVES.md (not measured in this run)\n");
        return sb.toString();
    }

    /** One JSON line. */
    public String json() {
        ObjectNode o = JSON.createObjectNode();
        o.put("bench", "collectives");
        o.put("ranks", ranks);
        o.put("transport", transport);
        o.put("wire", wire);
        o.put("machine", machine);
        o.put("date", date);
        ArrayNode a = o.putArray("results");
        for (CollectiveBench.Row r : rows) {
            ObjectNode x = a.addObject();
            x.put("op", r.op());
            x.put("bytes", r.bytes());
            x.put("time_s", r.seconds());
            x.put("iterations", r.iterations());
            x.put("algbw_gbps", r.algBw());
            x.put("busbw_gbps", r.busBw());
            if (r.glooBusBw() != null) {
                x.put("gloo_busbw_gbps", r.glooBusBw());
            }
        }
        o.put("memcpy_gbps", memcpyGBps);
        o.put("memcpy_read_write_gbps", memcpyReadWriteGBps);
        return o.toString();
    }
}
