package dev.dinoj.deploy.cli;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.weights.Backbones;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj export --checkpoint DIR --out FILE.safetensors}. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = {
            "Export the teacher backbone of a checkpoint as safetensors with the official DINOv2 key names "
                    + "(hub layout: cls_token, pos_embed, patch_embed.proj.weight, blocks.N.…, norm.weight), so PyTorch "
                    + "code can load_state_dict it into dinov2's DinoVisionTransformer.",
            "The architecture is recorded in the file's metadata."
        })
public final class ExportCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, description = "checkpoint directory (step-N) or run directory")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "output .safetensors file")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded b = Backbones.teacherFromCheckpoint(checkpoint, m)) {
            Backbones.exportHubLayout(b.params(), "", b.config(), out);
            System.out.printf(
                    "wrote %s: %d tensors, %d parameters (embed %d, depth %d, heads %d, patch %d, pos_embed for %d px)%n",
                    out,
                    b.params().size(),
                    b.params().numel(),
                    b.config().embedDim(),
                    b.config().depth(),
                    b.config().numHeads(),
                    b.config().patchSize(),
                    b.config().imgSize());
        }
        return 0;
    }
}
