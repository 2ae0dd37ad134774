package dev.dinoj.evaluation.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** XChart line charts saved as PNG: the report's plots. */
public final class Charts {

    /** Default chart size. */
    public static final int WIDTH = 640;
    /** Default chart height. */
    public static final int HEIGHT = 360;

    /**
     * One line of a chart.
     *
     * @param name legend entry
     * @param x x values
     * @param y y values (NaN points are dropped)
     * @param markers whether to draw point markers
     * @param dashed whether to dash the line
     */
    public record Line(String name, double[] x, double[] y, boolean markers, boolean dashed) {

        /**
         * A plain line.
         *
         * @param name legend entry
         * @param x x values
         * @param y y values
         * @return the line
         */
        public static Line of(String name, double[] x, double[] y) {
            return new Line(name, x, y, false, false);
        }
    }

    private Charts() {}

    /**
     * Draws lines into a PNG.
     *
     * @param file the PNG path
     * @param title the chart title
     * @param xTitle x axis
     * @param yTitle y axis
     * @param lines the lines
     * @param logY logarithmic y axis (only used when every value is &gt; 0)
     * @return {@code file}
     */
    public static Path line(Path file, String title, String xTitle, String yTitle, List<Line> lines, boolean logY) {
        double offset = logY ? 0 : offset(lines);
        if (offset != 0) { // a tiny range far from 0 (momentum 0.992 → 1): plot the difference
            List<Line> shifted = new ArrayList<>(lines.size());
            for (Line l : lines) {
                double[] y = l.y().clone();
                for (int i = 0; i < y.length; i++) {
                    y[i] -= offset;
                }
                shifted.add(new Line(l.name(), l.x(), y, l.markers(), l.dashed()));
            }
            lines = shifted;
            yTitle = yTitle + " − "
                    + BigDecimal.valueOf(offset).stripTrailingZeros().toPlainString();
        }
        int exp = logY ? 0 : exponent(lines);
        if (exp != 0) { // tiny or huge values: plot mantissas, name the power in the axis title
            double f = Math.pow(10, -exp);
            List<Line> scaled = new ArrayList<>(lines.size());
            for (Line l : lines) {
                double[] y = l.y().clone();
                for (int i = 0; i < y.length; i++) {
                    y[i] *= f;
                }
                scaled.add(new Line(l.name(), l.x(), y, l.markers(), l.dashed()));
            }
            lines = scaled;
            yTitle = yTitle + " (×1e" + exp + ")";
        }
        XYChart chart = new XYChartBuilder()
                .width(WIDTH)
                .height(HEIGHT)
                .title(title)
                .xAxisTitle(xTitle)
                .yAxisTitle(yTitle)
                .build();
        XYStyler st = chart.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Horizontal);
        st.setLegendVisible(lines.size() > 1);
        st.setPlotGridLinesVisible(true);
        chart.getStyler().setMarkerSize(6);
        boolean positive = true;
        boolean any = false;
        for (Line l : lines) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < Math.min(l.x().length, l.y().length); i++) {
                if (Double.isFinite(l.y()[i]) && Double.isFinite(l.x()[i])) {
                    xs.add(l.x()[i]);
                    ys.add(l.y()[i]);
                    positive &= l.y()[i] > 0;
                }
            }
            if (xs.isEmpty()) {
                continue;
            }
            any = true;
            XYSeries s = chart.addSeries(l.name(), xs, ys);
            s.setMarker(l.markers() ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            if (l.dashed()) {
                s.setLineStyle(new BasicStroke(
                        1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            }
        }
        if (!any) {
            chart.addSeries("no data", new double[] {0}, new double[] {0}).setMarker(SeriesMarkers.NONE);
        }
        st.setYAxisLogarithmic(logY && positive && any);
        st.setXAxisMaxLabelCount(10);
        st.setXAxisDecimalPattern("#,##0.##");
        st.setYAxisDecimalPattern(yPattern(lines));
        try {
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /**
     * A round number to subtract from the y values when their range is under 2 % of their magnitude, else 0: the
     * lowest value rounded down at the range's power of ten.
     */
    static double offset(List<Line> lines) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Line l : lines) {
            for (double v : l.y()) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        double range = hi - lo;
        double mag = Math.max(Math.abs(lo), Math.abs(hi));
        if (!(range > 0) || range >= 0.02 * mag) {
            return 0;
        }
        double p = Math.pow(10, Math.floor(Math.log10(range)));
        return BigDecimal.valueOf(Math.floor(lo / p) * p)
                .round(new MathContext(12))
                .doubleValue();
    }

    /** The power of ten to factor out of the y values: 0 unless the largest magnitude is below 0.01 or ≥ 1e5. */
    static int exponent(List<Line> lines) {
        double mag = 0;
        for (Line l : lines) {
            for (double v : l.y()) {
                if (Double.isFinite(v)) {
                    mag = Math.max(mag, Math.abs(v));
                }
            }
        }
        if (mag == 0 || (mag >= 1e-2 && mag < 1e5)) {
            return 0;
        }
        return (int) Math.floor(Math.log10(mag));
    }

    /** A y-axis number format that shows the differences between the values without a wall of digits. */
    static String yPattern(List<Line> lines) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Line l : lines) {
            for (double v : l.y()) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (!Double.isFinite(lo)) {
            return "0.##";
        }
        double range = hi - lo;
        int decimals = range > 0 ? (int) Math.ceil(-Math.log10(range)) + 2 : 2;
        decimals = Math.max(0, Math.min(decimals, 8));
        return decimals == 0 ? "#,##0" : "#,##0." + "#".repeat(decimals);
    }

    /**
     * An exponential moving average (for noisy per-step losses), NaNs skipped.
     *
     * @param y the values
     * @param alpha the weight of a new value
     * @return the smoothed values
     */
    public static double[] ema(double[] y, double alpha) {
        double[] out = new double[y.length];
        double m = Double.NaN;
        for (int i = 0; i < y.length; i++) {
            if (Double.isFinite(y[i])) {
                m = Double.isNaN(m) ? y[i] : (1 - alpha) * m + alpha * y[i];
            }
            out[i] = m;
        }
        return out;
    }
}
