/**
 * Instance retrieval / copy detection: mAP of finding edited copies of query images among distractors by cosine
 * similarity of frozen features.
 */
package dev.dinoj.evaluation.retrieval;
