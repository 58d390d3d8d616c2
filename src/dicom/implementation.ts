// Who we are on the wire and in the files we write (PS3.7 D.3.3.2, PS3.10 7.1): a module of
// its own so that the network layer does not load the data set code (and its dictionaries)
// to name itself, which `pacs echo` would pay for at every start.
/** Our implementation class UID (generated once with newUid()). */
export const IMPLEMENTATION_CLASS_UID = '2.25.167192610518992867902247069677451082202';
export const IMPLEMENTATION_VERSION_NAME = 'OPENPACS_010';
