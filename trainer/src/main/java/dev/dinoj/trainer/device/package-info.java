/**
 * Tensors on the training device ({@code dinoj.device}, {@link dev.dinoj.trainer.config.DeviceSpec}): the in-place
 * copies between device tensors and host staging memory ({@link dev.dinoj.trainer.device.DeviceCopy}) that the sharded
 * step uses for what crosses Aeron and to write parameters back into the live tensors.
 */
package dev.dinoj.trainer.device;
