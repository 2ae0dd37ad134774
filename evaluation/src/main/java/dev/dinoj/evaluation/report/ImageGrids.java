package dev.dinoj.evaluation.report;

import dev.dinoj.pipeline.data.RgbImage;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Grids of images with captions, written as PNG: the PCA figure (input | PCA map per image) and the nearest
 * neighbours of query images. Pixels are scaled by an integer factor with nearest-neighbour sampling.
 */
public final class ImageGrids {

    /** One cell: an image, a caption and an optional frame colour. */
    public record Cell(BufferedImage image, String caption, Color frame) {}

    private static final int CAPTION = 14;
    private static final int PAD = 6;

    private ImageGrids() {}

    /**
     * An image scaled to {@code side × side} pixels (nearest neighbour).
     *
     * @param img the image
     * @param side the output side
     * @return the image
     */
    public static BufferedImage of(RgbImage img, int side) {
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        int plane = img.planeSize();
        float[] c = img.chw();
        for (int y = 0; y < side; y++) {
            int sy = y * img.height() / side;
            for (int x = 0; x < side; x++) {
                int sx = x * img.width() / side;
                int p = sy * img.width() + sx;
                out.setRGB(x, y, rgb(c[p], c[plane + p], c[2 * plane + p]));
            }
        }
        return out;
    }

    /**
     * A PCA map ({@code grid × grid} RGB patches) scaled to {@code side × side}.
     *
     * @param rgb {@code patch * 3 + channel} values in [0, 1]
     * @param grid patches per side
     * @param side the output side
     * @return the image
     */
    public static BufferedImage ofPatches(float[] rgb, int grid, int side) {
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < side; y++) {
            int py = y * grid / side;
            for (int x = 0; x < side; x++) {
                int p = py * grid + x * grid / side;
                out.setRGB(x, y, rgb(rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]));
            }
        }
        return out;
    }

    /**
     * Writes rows of cells as one PNG.
     *
     * @param file the PNG path
     * @param rows the rows (all cells of the same size)
     * @return {@code file}
     */
    public static Path write(Path file, List<List<Cell>> rows) {
        int cols = rows.stream().mapToInt(List::size).max().orElse(1);
        int side = rows.get(0).get(0).image().getWidth();
        int cellW = side + PAD;
        int cellH = side + CAPTION + PAD;
        BufferedImage out =
                new BufferedImage(PAD + cols * cellW, PAD + rows.size() * cellH, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
            for (int r = 0; r < rows.size(); r++) {
                for (int c = 0; c < rows.get(r).size(); c++) {
                    Cell cell = rows.get(r).get(c);
                    int x = PAD + c * cellW;
                    int y = PAD + r * cellH;
                    g.drawImage(cell.image(), x, y, null);
                    if (cell.frame() != null) {
                        g.setColor(cell.frame());
                        g.setStroke(new BasicStroke(3f));
                        g.drawRect(x + 1, y + 1, side - 3, side - 3);
                    }
                    if (cell.caption() != null) {
                        g.setColor(Color.DARK_GRAY);
                        String s = cell.caption();
                        while (s.length() > 1 && g.getFontMetrics().stringWidth(s) > side) {
                            s = s.substring(0, s.length() - 1);
                        }
                        g.drawString(s, x, y + side + CAPTION - 3);
                    }
                }
            }
        } finally {
            g.dispose();
        }
        try {
            ImageIO.write(out, "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        return file;
    }

    private static int rgb(float r, float g, float b) {
        return (to8(r) << 16) | (to8(g) << 8) | to8(b);
    }

    private static int to8(float v) {
        return Math.max(0, Math.min(255, Math.round(v * 255f)));
    }
}
