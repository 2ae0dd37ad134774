/** The coordinator (cluster singleton) and the trainer-worker actor, with the plain engine the worker drives. */
package dev.dinoj.actors.train;
