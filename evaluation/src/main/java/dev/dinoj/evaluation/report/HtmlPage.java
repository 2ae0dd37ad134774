package dev.dinoj.evaluation.report;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The report's HTML page as it is built: sections, paragraphs, figures (PNG files by id), tables. */
final class HtmlPage {

    private final Map<String, Path> figures = new LinkedHashMap<>();
    private final StringBuilder body = new StringBuilder(16_384);

    /** Appends raw HTML. */
    void append(CharSequence html) {
        body.append(html);
    }

    /** The figures so far, id → PNG, in page order. */
    Map<String, Path> figures() {
        return figures;
    }

    void section(String id, String title) {
        body.append("<h2 id=\"").append(id).append("\">").append(esc(title)).append("</h2>\n");
    }

    void para(String html) {
        body.append("<p>").append(html).append("</p>\n");
    }

    void figure(String id, Path png, String caption) {
        figures.put(id, png);
        body.append("<figure id=\"fig-")
                .append(id)
                .append("\"><img src=\"")
                .append(esc(png.getFileName().toString()))
                .append("\" alt=\"")
                .append(esc(id))
                .append("\"><figcaption>")
                .append(esc(caption))
                .append("</figcaption></figure>\n");
    }

    static void kv(StringBuilder sb, String k, String v) {
        sb.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>");
    }

    static void row(StringBuilder sb, String... cells) {
        sb.append("<tr>");
        for (String c : cells) {
            sb.append("<td>").append(esc(c)).append("</td>");
        }
        sb.append("</tr>\n");
    }

    /** The whole page: head, navigation, the body so far. */
    String html(String title) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title>\n"
                + "<style>body{font-family:sans-serif;max-width:1400px;margin:1em auto;padding:0 1em;color:#222}"
                + "figure{display:inline-block;margin:.5em;vertical-align:top;max-width:660px}"
                + "figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.85em;color:#555}"
                + "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;"
                + "text-align:left;font-size:.9em}h2{border-bottom:1px solid #ccc;margin-top:1.5em}</style>\n"
                + "<script>window.addEventListener('load',function(){var imgs=document.querySelectorAll('img'),ok=0;"
                + "imgs.forEach(function(im){var g=im.complete&&im.naturalWidth>0;im.setAttribute('data-ok',g?'1':'0');"
                + "if(g)ok++;});document.body.setAttribute('data-images-ok',ok+'/'+imgs.length);});</script>\n"
                + "</head><body>\n<h1>" + esc(title) + "</h1>\n<nav>"
                + "<a href=\"#losses\">losses</a> · <a href=\"#schedules\">schedules</a> · <a href=\"#knn\">k-NN</a> · "
                + "<a href=\"#evaluations\">evaluations</a> · <a href=\"#pca\">PCA</a> · "
                + "<a href=\"#neighbours\">neighbours</a> · <a href=\"#curation\">curated data</a></nav>\n" + body
                + "</body></html>\n";
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
