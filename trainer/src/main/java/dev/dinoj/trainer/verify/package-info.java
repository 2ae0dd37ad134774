/**
 * Replays of official DINOv2 training steps from fixtures, compared quantity by quantity ({@code verify-reference}).
 */
package dev.dinoj.trainer.verify;
