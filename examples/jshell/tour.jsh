// The README's API tour, runnable: bin/longconv4j jshell --script examples/jshell/tour.jsh
var u = Tensor.randn(Rng.seeded(0), DType.F32, 8, 64, 1024);          // (B, H, L)
var layer = LongConv.builder().features(64).length(1024).lambda(0.003).seed(1).build();
var y = layer.forward(u);                                               // FFT conv + D*u, GELU, GLU
System.out.println(layer.planFor(1024, DType.F32));                     // engine chosen once, from a table
var k = Tensor.randn(Rng.seeded(2), DType.F64, 4, 100).requiresGrad(true);
var v = Tensor.randn(Rng.seeded(3), DType.F64, 2, 4, 100).requiresGrad(true);
LongConv.apply(v, k, ConvMode.CAUSAL).pow(2).sum().backward();          // hand-written FFT backward
System.out.println("du " + v.grad() + "\ndk " + k.grad());
var data = TextDataset.of(Datasets.get("tinyshakespeare"), null, 0.9);  // cached download, SHA-256 checked
var lm = LongConvLM.builder().vocab(data.vocabSize()).width(32).layers(2).length(64).
        mixer(Mixer.H3).engine(ConvEngine.FFT).seed(0).build();
var trainer = Trainer.builder().model(lm).objective(Objectives.languageModel(lm, data, 64, 8, 2)).
        steps(20).batchSize(8).lr(2e-3).evalEvery(10).seed(0).build();
var history = trainer.fit();                                            // AdamW groups, warmup+cosine, NaN guard
System.out.println(history.table().last(2));                            // a Tablesaw Table
var tok = data.tokenizer();
System.out.println(tok.decode(Generation.sample(lm, tok.encode("ROMEO:"), 40, 0.8, 10, 0)));
TensorFiles.save(Path.of("/tmp/lm.safetensors"), lm.stateDict(), Map.of()); // safetensors, written atomically
/exit
