package dev.dinoj.actors.serialization;

import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.actors.curate.CurationDriver;
import dev.dinoj.actors.curate.CurationView;
import dev.dinoj.actors.curate.CurationWorker;
import dev.dinoj.actors.curate.KMeansDriver;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.actors.train.Coordinator;
import dev.dinoj.actors.train.RunDriver;
import dev.dinoj.actors.train.RunStatus;
import dev.dinoj.actors.train.StepSchedule;
import dev.dinoj.actors.train.TrainerWorker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The classes the cluster serializer accepts, in a fixed order: the Kryo registration id of a class is its position
 * plus {@link #FIRST_ID}, so every node must run the same list (the same dinoj version). Extra classes come from
 * {@code dinoj.actors.serialization.extra-classes} and are appended after the built-in ones.
 */
public final class ClusterRegistry {

    /** Kryo ids below this are Kryo's own (primitives, String, …). */
    public static final int FIRST_ID = 100;

    /** Protocol records and the value types inside them. */
    public static final List<Class<?>> BUILT_IN = List.of(
            // value types inside messages
            double[].class,
            int[].class,
            long[].class,
            byte[].class,
            String[].class,
            StepSchedule.class,
            RunStatus.class,
            RunStatus.WorkerView.class,
            RunStatus.WorkerView[].class,
            // trainer worker
            TrainerWorker.Describe.class,
            TrainerWorker.FormWorld.class,
            TrainerWorker.RunStep.class,
            TrainerWorker.SaveCheckpoint.class,
            TrainerWorker.LeaveWorld.class,
            // run driver (the workers' answers) and coordinator (the management routes' requests)
            RunDriver.WorkerHello.class,
            RunDriver.WorldJoined.class,
            RunDriver.WorldFailed.class,
            RunDriver.StepDone.class,
            RunDriver.StepFailed.class,
            RunDriver.CheckpointSaved.class,
            RunDriver.CheckpointFailed.class,
            Coordinator.GetStatus.class,
            Coordinator.Stop.class,
            Coordinator.CheckpointNow.class,
            Coordinator.Accepted.class,
            Coordinator.Submit.class,
            // data shards
            DataShard.GetSamples.class,
            DataShard.Samples.class,
            DataShard.GetInfo.class,
            DataShard.Info.class,
            // curation
            CurateSpec.class,
            CurationView.class,
            CurationWorker.IngestPartition.class,
            CurationDriver.PartitionProgress.class,
            CurationDriver.PartitionDone.class,
            CurationDriver.PartitionFailed.class,
            // the queue of submitted runs
            RunStatus.QueuedRun.class,
            RunStatus.QueuedRun[].class,
            Coordinator.Cancel.class,
            // the sharded k-means of curation
            float[].class,
            CurationWorker.AssignPass.class,
            KMeansDriver.PassPartial.class,
            KMeansDriver.PassFailed.class,
            // the sharded copy detection of curation
            CurationWorker.CopyPass.class);

    private final List<Class<?>> classes;
    private final Map<String, Class<?>> byName;

    private ClusterRegistry(List<Class<?>> classes) {
        this.classes = Collections.unmodifiableList(classes);
        Map<String, Class<?>> m = new LinkedHashMap<>();
        for (Class<?> c : classes) {
            if (m.put(c.getName(), c) != null) {
                throw new IllegalArgumentException("class registered twice for the cluster serializer: " + c.getName());
            }
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    /**
     * The built-in classes plus {@code extra} (fully qualified names, loaded with {@code loader}).
     *
     * @throws IllegalArgumentException naming the config key and the class when a name cannot be loaded
     */
    public static ClusterRegistry of(List<String> extra, ClassLoader loader) {
        List<Class<?>> all = new ArrayList<>(BUILT_IN);
        for (String name : extra) {
            try {
                all.add(Class.forName(name, false, loader));
            } catch (ClassNotFoundException e) {
                throw new IllegalArgumentException("dinoj.actors.serialization.extra-classes: no class " + name
                        + " on the class path; remove it or add the jar that has it");
            }
        }
        return new ClusterRegistry(all);
    }

    public List<Class<?>> classes() {
        return classes;
    }

    /** The registered class of that exact name, or null (never loads a class). */
    public Class<?> lookup(String name) {
        return byName.get(name);
    }

    public boolean contains(Class<?> c) {
        return byName.get(c.getName()) == c;
    }
}
