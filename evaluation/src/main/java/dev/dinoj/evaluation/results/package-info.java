/** The results log of a run ({@code RUN/eval/results.jsonl}) that the eval commands append to and the report reads. */
package dev.dinoj.evaluation.results;
