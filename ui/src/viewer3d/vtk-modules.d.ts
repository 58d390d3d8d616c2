// vtk.js ships no type declarations for the marching cubes filter: the part used here.
declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes' {
  import type { vtkAlgorithm, vtkObject } from '@kitware/vtk.js/interfaces';
  import type vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData';
  import type vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData';
  export interface vtkImageMarchingCubes extends vtkObject, vtkAlgorithm {
    setContourValue(value: number): boolean;
    setComputeNormals(on: boolean): boolean;
    setMergePoints(on: boolean): boolean;
    setInputData(data: vtkImageData): void;
    getOutputData(): vtkPolyData;
  }
  const factory: { newInstance(initial?: { contourValue?: number; computeNormals?: boolean; mergePoints?: boolean }): vtkImageMarchingCubes };
  export default factory;
}
