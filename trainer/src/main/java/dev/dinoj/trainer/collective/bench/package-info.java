/** {@code dinoj bench collectives}: bandwidth of the collectives (ranks as processes) beside memcpy. */
package dev.dinoj.trainer.collective.bench;
