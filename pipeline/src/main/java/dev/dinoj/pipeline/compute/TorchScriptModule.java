package dev.dinoj.pipeline.compute;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A TorchScript module compiled from source text by the libtorch that DJL loaded, whose methods take and return DJL
 * arrays. libtorch compiles a TorchScript archive's {@code code/__torch__.py} when it loads it, so dinoj writes the
 * archive itself (no Python at build or run time): a class of methods over tensors, no parameters.
 *
 * <p>Calls record autograd when asked ({@code grad}): the results carry a gradient function back to the inputs, so a
 * method can sit inside a training forward. Every method's inputs and outputs are tensors; the TorchScript dtype codes
 * are those of {@code c10::ScalarType} ({@code 6} float32, {@code 15} bfloat16).
 *
 * <p>Thread-safe: a compiled module is immutable and libtorch runs concurrent calls of one module.
 */
public final class TorchScriptModule implements AutoCloseable {

    private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final Model model;
    private final PtSymbolBlock block;

    private TorchScriptModule(Model model) {
        this.model = model;
        this.block = (PtSymbolBlock) model.getBlock();
    }

    /**
     * Compiles a module.
     *
     * @param className the TorchScript class name (an identifier)
     * @param methods   the methods' source, each {@code def name(self, a: Tensor, …) -> Tensor:} indented by two
     *                  spaces as a class body, as TorchScript's serialised code is written ({@code self}'s type is
     *                  filled in); a {@code forward} is added when missing
     * @param device    where the module runs (its inputs must be there too)
     * @throws IllegalArgumentException when libtorch refuses the source (the message is libtorch's)
     */
    public static TorchScriptModule compile(String className, String methods, Device device) {
        if (!IDENT.matcher(className).matches()) {
            throw new IllegalArgumentException("not an identifier: " + className);
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("dinoj-ts-");
            writeArchive(dir.resolve(className + ".pt"), className, methods);
            Model model = Model.newInstance(className, device, "PyTorch");
            try {
                model.load(dir, className);
            } catch (RuntimeException | MalformedModelException e) {
                model.close();
                throw new IllegalArgumentException(
                        "TorchScript " + className + " does not compile: " + e.getMessage(), e);
            }
            return new TorchScriptModule(model);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(dir);
        }
    }

    /**
     * Calls a method.
     *
     * @param method its name
     * @param grad   record autograd (inside a {@code GradientCollector}); false runs under no-grad
     * @param args   tensor arguments, on the module's device; their names are ignored
     * @return the outputs (one array for a {@code Tensor} result, one per element for a tuple), attached to the first
     *     argument's manager
     */
    public NDList call(String method, boolean grad, NDArray... args) {
        if (args.length == 0) {
            throw new IllegalArgumentException("at least one tensor argument");
        }
        NDList in = new NDList(args.length + 1);
        String[] names = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            names[i] = args[i].getName();
            if (names[i] != null) {
                args[i].setName(null); // DJL reads "a.b"-style names as dict/tuple inputs
            }
            in.add(args[i]);
        }
        try (NDArray selector = args[0].getManager().create(0f)) {
            selector.setName("module_method:" + method);
            in.add(selector);
            return IValueUtils.forward(block, in, grad);
        } finally {
            for (int i = 0; i < args.length; i++) {
                if (names[i] != null) {
                    args[i].setName(names[i]);
                }
            }
        }
    }

    /** {@link #call} with a single tensor result. */
    public NDArray call1(String method, boolean grad, NDArray... args) {
        NDList out = call(method, grad, args);
        if (out.size() != 1) {
            out.close();
            throw new IllegalStateException(method + " returned " + out.size() + " tensors, expected 1");
        }
        return out.head();
    }

    @Override
    public void close() {
        model.close();
    }

    static void writeArchive(Path file, String className, String methods) throws IOException {
        String body = methods.replace("(self,", "(self: __torch__." + className + ",");
        if (!body.contains("def forward(")) {
            body += "  def forward(self: __torch__." + className + ",\n    x: Tensor) -> Tensor:\n    return x\n";
        }
        String code = "class " + className + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + body;
        try (OutputStream os = Files.newOutputStream(file);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            String root = className + "/";
            entry(zip, root + "version", "3\n".getBytes(StandardCharsets.US_ASCII));
            entry(zip, root + "code/__torch__.py", code.getBytes(StandardCharsets.UTF_8));
            entry(zip, root + "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            entry(zip, root + "data.pkl", dataPickle(className));
        }
    }

    /** Pickle (protocol 2) of an instance of {@code __torch__.<className>} with {@code training = False}. */
    private static byte[] dataPickle(String className) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.writeBytes(("c__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(new byte[] {'q', 0, ')', (byte) 0x81, '}', '('});
        b.write('X');
        b.writeBytes(new byte[] {8, 0, 0, 0});
        b.writeBytes("training".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(new byte[] {'q', 1, (byte) 0x89, 'u', 'b', 'q', 2, '.'});
        return b.toByteArray();
    }

    private static void entry(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry e = new ZipEntry(name);
        zip.putNextEntry(e);
        zip.write(bytes);
        zip.closeEntry();
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
