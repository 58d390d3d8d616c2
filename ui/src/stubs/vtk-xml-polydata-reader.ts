// Stands in for vtk.js's XMLPolyDataReader in the bundle (vite.config.ts): Cornerstone's
// Mesh imports it for VTP surface meshes, which this viewer never loads, and with it came
// an XML builder and a YAML parser (about 300 kB) into every page's script.
const vtkXMLPolyDataReader = {
  newInstance(): never {
    throw new Error('VTP meshes are not supported by this viewer');
  },
};
export default vtkXMLPolyDataReader;
