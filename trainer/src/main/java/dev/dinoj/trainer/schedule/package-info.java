/**
 * Schedules indexed by step (dinov2 {@code utils/param_groups}, {@code CosineScheduler}): learning rate, weight decay,
 * teacher momentum and temperature, last-layer learning rate.
 */
package dev.dinoj.trainer.schedule;
