/**
 * The Aeron hot path of the collectives: the chunk header flyweight and the wire encodings. Aeron's conventions
 * apply here: final parameters and locals, no allocation per fragment.
 */
package dev.dinoj.trainer.collective.transport;
