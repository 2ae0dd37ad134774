/** Adapters that let the curation pipeline embed images with a trained backbone (pipeline's {@code Embedder}). */
package dev.dinoj.evaluation.embed;
