package dev.dinoj.trainer.config;

/** A training configuration that cannot be used; the message names the key (or file) and what to do. */
public final class ConfigError extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public ConfigError(String message) {
        super(message);
    }
}
