/**
 * Helpers the modules' tests share, used in test scope only: self-signed key stores made with keytool
 * ({@link dev.dinoj.testkit.KeyStores}), stdout/stderr captured around a call ({@link dev.dinoj.testkit.StdStreams}),
 * where Fashion-MNIST is installed ({@link dev.dinoj.testkit.FashionMnist}), seeded random arrays
 * ({@link dev.dinoj.testkit.RandomArrays}) and DINOv2 backbones written as transformers and timm publish them
 * ({@link dev.dinoj.testkit.PublishedBackbones}). It depends on no dinoj module, so that any module can use it.
 */
package dev.dinoj.testkit;
