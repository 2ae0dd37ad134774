/**
 * The training configuration: {@code reference.conf} under presets, files and {@code --set} overrides
 * ({@code ConfigLayers}), read into one record per section ({@code TrainSettings}); errors name the key. Depends on
 * nothing above the model, loss, schedule and collective settings it builds.
 */
package dev.dinoj.trainer.config;
