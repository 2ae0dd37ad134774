package dev.dinoj.pipeline.storage;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider;
import software.amazon.awssdk.profiles.ProfileFile;

/**
 * With no static key, Alpakka S3 resolves credentials through the AWS SDK's default chain, which builds a web-identity
 * provider (EKS IRSA: {@code AWS_WEB_IDENTITY_TOKEN_FILE} + {@code AWS_ROLE_ARN}) and a profile provider that handles
 * SSO profiles. Both load an SDK service module by name ({@code sts}, {@code sso}) and fail with "module must be on the
 * class path" without it. Nothing here talks to AWS: the token file and the SSO login's cached token are missing, so each
 * provider, once built, fails locally on them.
 */
class AwsCredentialProvidersTest {
    private static final String[] PROPERTIES = {
        "aws.webIdentityTokenFile", "aws.roleArn", "aws.roleSessionName", "aws.region"
    };

    @AfterEach
    void clearProperties() {
        for (String p : PROPERTIES) {
            System.clearProperty(p);
        }
    }

    @Test
    void shouldBuildTheWebIdentityProviderOfTheDefaultChain(@TempDir Path tmp) {
        Path token = tmp.resolve("missing-web-identity-token");
        System.setProperty("aws.webIdentityTokenFile", token.toString());
        System.setProperty("aws.roleArn", "arn:aws:iam::123456789012:role/dinoj-test");
        System.setProperty("aws.roleSessionName", "dinoj-test");
        System.setProperty("aws.region", "us-east-1"); // otherwise the STS client asks the EC2 metadata service
        WebIdentityTokenFileCredentialsProvider provider = WebIdentityTokenFileCredentialsProvider.create();
        RuntimeException e = assertThrows(RuntimeException.class, provider::resolveCredentials);
        String why = messages(e);
        assertFalse(why.contains("class path"), "the sts module is missing: " + why);
        assertTrue(
                why.contains(token.getFileName().toString()), "failed on something else than the token file: " + why);
    }

    @Test
    void shouldBuildTheSsoProviderOfAnSsoProfile(@TempDir Path tmp) throws Exception {
        Path config = Files.writeString(
                tmp.resolve("config"),
                String.join(
                        "\n",
                        "[profile dinoj-sso]",
                        "sso_start_url = https://dinoj-test.awsapps.com/start",
                        "sso_region = us-east-1",
                        "sso_account_id = 123456789012",
                        "sso_role_name = dinoj-test",
                        "region = us-east-1",
                        ""));
        ProfileCredentialsProvider provider = ProfileCredentialsProvider.builder()
                .profileFile(ProfileFile.builder()
                        .content(config)
                        .type(ProfileFile.Type.CONFIGURATION)
                        .build())
                .profileName("dinoj-sso")
                .build();
        RuntimeException e = assertThrows(RuntimeException.class, provider::resolveCredentials);
        String why = messages(e);
        assertFalse(why.contains("class path"), "the sso module is missing: " + why);
        // the provider was built and looked for the token that 'aws sso login' caches under ~/.aws/sso/cache
        assertTrue(
                why.contains(Path.of(".aws", "sso", "cache").toString()),
                "failed on something else than the SSO token " + "cache: " + why);
    }

    /** The messages of {@code t} and its causes, one per line. */
    private static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getName())
                    .append(": ")
                    .append(c.getMessage())
                    .append('\n');
        }
        return sb.toString();
    }
}
