package dev.dinoj.deploy.architecture;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No package of any module depends on itself through other packages: each module's packages form layers (e.g. in
 * {@code trainer}: {@code io ← model ← loss/optim ← collective ← config ← checkpoint ← train ← train.sharded ← bench}),
 * so a package can be read, tested and moved with only what lies below it. Modules are layered by Maven
 * ({@code pipeline ← trainer ← evaluation ← actors ← deploy}); this test covers the packages inside each one and fails
 * on the first new cycle, naming the classes that close it. Main sources only.
 */
class PackageCyclesTest {

    @ParameterizedTest
    @ValueSource(strings = {"pipeline", "trainer", "evaluation", "actors", "deploy"})
    void shouldHaveNoPackageCycles(String module) {
        String root = "dev.dinoj." + module;
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(root);
        slices().matching(root + ".(**)").should().beFreeOfCycles().check(classes);
    }
}
