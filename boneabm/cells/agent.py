"""A cell on one grid site: the Mesa agent of every lineage. Its numbers live in row ``row`` of its lineage's
population; the agent is touched only for births, deaths and fusions. Its site is its row's (x, y), and the
grid's cell there holds it through the model's ``site_agent`` array (``cells/sites.py``), so moves write
arrays only."""

from __future__ import annotations

from mesa.discrete_space import CellAgent


class Cell(CellAgent):
    def __init__(self, lineage, cell, born_h: float, generation: int):
        super().__init__(lineage.model)
        self.lineage = lineage
        cell.add_agent(self)  # Mesa's check first: a site holds one cell
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

    @property
    def cell(self):
        """The grid cell of this agent's site; None once it has left the grid (its row may hold another cell
        by then, on another site)."""
        pop, model = self.lineage.population, self.model
        x, y = pop.x[self.row], pop.y[self.row]
        return model.site_cells[x, y] if model.site_agent[x, y] is self else None

    @cell.setter
    def cell(self, cell) -> None:
        """Mesa's move (and, with None, leaving the grid): into the new site first, which must be free."""
        old = self.cell
        if cell is old:
            return
        if cell is not None:
            cell.add_agent(self)
            pop = self.lineage.population
            pop.x[self.row], pop.y[self.row] = cell.coordinate
        if old is not None:
            old.remove_agent(self)

    def divide(self, cell) -> "Cell":
        """Divide into ``cell``: both daughters are one generation on; the one placed there gets a new id and
        stream, this one keeps its own."""
        population = self.lineage.population
        population.generation[self.row] += 1
        return type(self)(self.lineage, cell, self.model.time_h, int(population.generation[self.row]))

    def die(self) -> None:
        self.lineage.population.release(self.row)
        self.remove()
