"""A cell on one grid site: the Mesa agent of every lineage. Its numbers live in row ``row`` of its lineage's
population; the agent is touched only for births, deaths, fusions and moves."""

from __future__ import annotations

from mesa.discrete_space import CellAgent


class Cell(CellAgent):
    def __init__(self, lineage, cell, born_h: float, generation: int):
        super().__init__(lineage.model)
        self.lineage = lineage
        self.cell = cell
        x, y = cell.coordinate
        self.row = lineage.population.add(self, x, y, born_h, generation)

    @classmethod
    def attach(cls, lineage, row: int, cell) -> "Cell":
        """The agent of a cell restored into ``row`` of its population: it keeps the id the row holds."""
        agent = cls.__new__(cls)
        CellAgent.__init__(agent, lineage.model)
        agent.unique_id = int(lineage.population.cell_id[row])
        agent.lineage, agent.row = lineage, row
        agent.cell = cell
        lineage.population.agent[row] = agent
        return agent

    def divide(self, cell) -> "Cell":
        """Divide into ``cell``: both daughters are one generation on; the one placed there gets a new id and
        stream, this one keeps its own."""
        population = self.lineage.population
        population.generation[self.row] += 1
        return type(self)(self.lineage, cell, self.model.time_h, int(population.generation[self.row]))

    def die(self) -> None:
        self.lineage.population.release(self.row)
        self.remove()
