/** Datasets: in-memory splits, their loaders (embedded MNIST, IDX folders, Fashion-MNIST) and batching. */
export {
  bytesToUnitFloats,
  classHistogram,
  DIGIT_CLASS_NAMES,
  makeDataset,
  select,
  subset,
  takePerClass,
  toTensors,
  type Dataset,
  type DatasetTensors,
  type ImageLayout,
  type Split,
  type ToTensorsOptions,
} from './dataset.js';
export { batchCount, batches, sequentialOrder, shuffledOrder, type BatchOptions, type IntegerSource } from './batches.js';
export { expectIdxShape, isGzip, parseIdx, readIdxFile, type IdxArray, type IdxDtype, type IdxExpectation, type IdxValues } from './idx.js';
export { findIdxFiles, IDX_FILE_NAMES, loadIdxFolder, type IdxFolderOptions } from './idx-folder.js';
export {
  EMBEDDED_MNIST_COUNT,
  EMBEDDED_MNIST_PER_CLASS,
  EMBEDDED_MNIST_TEST_COUNT,
  EMBEDDED_MNIST_TEST_PER_CLASS,
  EMBEDDED_MNIST_TRAIN_COUNT,
  embeddedMnistDigitsDir,
  loadEmbeddedMnist,
} from './mnist-embedded.js';
export {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_TEST_COUNT,
  FASHION_MNIST_TRAIN_COUNT,
  loadFashionMnist,
  type FashionMnistOptions,
} from './fashion-mnist.js';
export { DATASETS, datasetEntry, datasetNames, DEFAULT_DATASET_NAME, loadDataset, dataSchema, type DataSettings, type DatasetEntry, type DatasetLoadOptions, type DatasetShape } from './registry.js';
export { binaryClassPrototypes } from './prototypes.js';
export { batchAccuracy, datasetAccuracy, type DatasetAccuracyOptions } from './accuracy.js';
