// OHIF's configuration for this PACS, shared by the OHIF interop test and bench/viewer-open.

/** The data source a deployment puts in OHIF's app-config.js to use this PACS (the README shows it). */
export function ohifDataSource(sourceName: string, dicomweb: string, options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
    sourceName,
    configuration: {
      friendlyName: 'open PACS',
      name: sourceName,
      qidoRoot: dicomweb,
      wadoRoot: dicomweb,
      wadoUriRoot: `${dicomweb}/wado`,
      qidoSupportsIncludeField: true,
      supportsReject: false,
      imageRendering: 'wadors',
      thumbnailRendering: 'wadors',
      enableStudyLazyLoad: true,
      supportsFuzzyMatching: false,
      supportsWildcard: true,
      bulkDataURI: { enabled: true, relativeResolution: 'studies' },
      ...options,
    },
  };
}
