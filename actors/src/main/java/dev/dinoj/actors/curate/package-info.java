/** Curation stages as cluster actors: a driver in the coordinator, one curation worker per {@code curation} node. */
package dev.dinoj.actors.curate;
