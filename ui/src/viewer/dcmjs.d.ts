// The part of dcmjs (no bundled types) the viewer uses: naturalized data sets and Part 10 writing.
declare module 'dcmjs' {
  type Dataset = Record<string, unknown>;
  interface DicomDictInstance {
    dict: Dataset;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomMetaDictionary: {
        naturalizeDataset(json: Dataset): Dataset;
        denaturalizeDataset(ds: Dataset): Dataset;
        uid(): string;
      };
      DicomDict: new (meta: Dataset) => DicomDictInstance;
      DicomMessage: { readFile(buffer: ArrayBuffer): { meta: Dataset; dict: Dataset } };
    };
  };
  export default dcmjs;
}
